// The one place the VS Code layer reads mailgwHa.* settings. Cluster settings name hosts, key files
// and known_hosts files, so in an untrusted workspace they are not used at all; settings that could
// weaken a safety check (known_hosts, the signal method, the delivery proof pattern) count only as
// the user set them, never as a workspace does.
import * as os from 'os';
import * as vscode from 'vscode';
import { parseSettings, Settings } from './core/config';
import type { Logger } from './core/host';
import { resolveAuditFile } from './core/audit/record';
import { parseRecoverySettings, RecoverySettings } from './core/recovery/settings';
import { parseSyncSettings, SyncSettings } from './core/sync/health';
import { parseStuckMailMinutes } from './core/spool/queueShape';
import { DEFAULT_FLEET_OPTIONS } from './core/fleet/status';

export const SECTION = 'mailgwHa';

function setting<T>(key: string, fallback: T): T {
  return vscode.workspace.getConfiguration(SECTION).get<T>(key, fallback);
}

/**
 * A setting that decides trust (machine scope in package.json): only the user's value counts. VS Code
 * already ignores a workspace's value for machine-scoped settings; reading the user value alone
 * keeps it so even if the manifest were changed.
 */
function userSetting<T>(key: string): T | undefined {
  const i = vscode.workspace.getConfiguration(SECTION).inspect<T>(key);
  return i?.globalValue ?? i?.defaultValue;
}

/** The clusters (none in an untrusted workspace) and the user's extra known_hosts file. */
export function readSettings(): Settings {
  if (!vscode.workspace.isTrusted) return { clusters: [], errors: [] };
  return parseSettings(setting<unknown>('clusters', undefined), userSetting('knownHostsFile'), os.homedir());
}

/** The names of the clusters as written in the settings (valid or not): a new cluster needs another. */
export function clusterNamesWritten(): unknown[] {
  const raw = setting<unknown>('clusters', []);
  return Array.isArray(raw) ? raw.map((c: unknown) => (c && typeof c === 'object' ? (c as { name?: unknown }).name : undefined)) : [];
}

/** Appends a cluster to the workspace's mailgwHa.clusters (the only setting the extension writes). */
export async function addClusterToWorkspace(cluster: unknown): Promise<void> {
  const cfg = vscode.workspace.getConfiguration(SECTION);
  const existing = cfg.inspect<unknown[]>('clusters')?.workspaceValue ?? [];
  await cfg.update('clusters', [...existing, cluster], vscode.ConfigurationTarget.Workspace);
}

/** The signal method and delivery proof pattern, as the user set them; what is wrong is logged and the default used. */
export function readRecoverySettings(logger: Logger): RecoverySettings {
  const { settings, errors } = parseRecoverySettings({ 'mailgwHa.signalMethod': userSetting('signalMethod'), 'mailgwHa.deliveryLogPattern': userSetting('deliveryLogPattern') });
  for (const e of errors) logger.warn(e);
  return settings;
}

/**
 * The audit trail's file (mailgwHa.auditLogFile, machine scope: only the user's value counts; empty:
 * the default shared with the CLI), or why the setting names none.
 */
export function auditLogTarget(): { file: string } | { error: string } {
  const r = resolveAuditFile(userSetting<unknown>('auditLogFile'), 'mailgwHa.auditLogFile');
  return r.file !== undefined ? { file: r.file } : { error: r.error };
}

export function readSyncSettings(): SyncSettings {
  return parseSyncSettings((key) => (key.startsWith(`${SECTION}.`) ? setting<unknown>(key.slice(SECTION.length + 1), undefined) : undefined));
}

/** How the Fleet view looks at the units, and when mail on an active unit counts as stuck. */
export function fleetSettings(): { concurrency: number; unitTimeoutMs: number; stuckAfterMs: number } {
  const clamp = (v: unknown, min: number, max: number, dflt: number) => (typeof v === 'number' && Number.isFinite(v) ? Math.min(max, Math.max(min, v)) : dflt);
  return {
    concurrency: Math.round(clamp(setting<unknown>('fleetConcurrency', undefined), 1, 64, DEFAULT_FLEET_OPTIONS.concurrency)),
    unitTimeoutMs: clamp(setting<unknown>('unitTimeoutSeconds', undefined), 2, 300, DEFAULT_FLEET_OPTIONS.unitTimeoutMs / 1000) * 1000,
    stuckAfterMs: stuckAfterMinutes() * 60_000,
  };
}

/** Mail older than this (minutes) in spool/ or vscan/ of the active unit is stuck (mailgwHa.stuckMailMinutes). */
export function stuckAfterMinutes(): number {
  return parseStuckMailMinutes(setting<unknown>('stuckMailMinutes', undefined)).minutes;
}

/** Seconds between automatic looks at the units; 0: off. */
export function autoRefreshSeconds(): number {
  return setting<number>('autoRefreshSeconds', 0);
}

/** Most bytes of a spool file opened in an editor (mailgwHa.maxOpenSizeMB). */
export function maxOpenBytes(): number {
  return Math.max(0.01, setting<number>('maxOpenSizeMB', 10)) * 1024 * 1024;
}

/** Whether a configuration change touches `mailgwHa.<key>`. */
export function affectsSetting(e: vscode.ConfigurationChangeEvent, key: string): boolean {
  return e.affectsConfiguration(`${SECTION}.${key}`);
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
