// Reads the mailgwHa.* settings for the VS Code layer. Cluster settings name hosts, key files and
// known_hosts files, so in an untrusted workspace they are not used at all.
import * as os from 'os';
import * as vscode from 'vscode';
import { parseSettings, Settings } from './core/config';

export const SECTION = 'mailgwHa';

export function readSettings(): Settings & { trusted: boolean } {
  if (!vscode.workspace.isTrusted) return { clusters: [], errors: [], trusted: false };
  const cfg = vscode.workspace.getConfiguration(SECTION);
  return { ...parseSettings(cfg.get('clusters'), userSetting('knownHostsFile'), os.homedir()), trusted: true };
}

/**
 * A setting that decides trust (machine scope in package.json): only the user's value counts. VS Code
 * already ignores a workspace's value for machine-scoped settings; reading the user value alone
 * keeps it so even if the manifest were changed.
 */
export function userSetting<T>(key: string): T | undefined {
  const i = vscode.workspace.getConfiguration(SECTION).inspect<T>(key);
  return i?.globalValue ?? i?.defaultValue;
}

/** Fires when anything that changes the effective settings happens: edits or a trust grant. */
export function onDidChangeSettings(listener: () => void): vscode.Disposable {
  return vscode.Disposable.from(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(SECTION)) listener();
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(listener),
  );
}
