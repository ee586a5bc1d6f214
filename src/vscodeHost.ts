// The VS Code side of the core's host interfaces: prompts as QuickPick/InputBox, secrets in
// SecretStorage, the log in a LogOutputChannel.
import * as vscode from 'vscode';
import type { Logger, Prompts, SecretStore, TrustDecision } from './core/host';

export function outputLogger(channel: vscode.LogOutputChannel): Logger {
  return {
    debug: (m) => channel.debug(m),
    info: (m) => channel.info(m),
    warn: (m) => channel.warn(m),
    error: (m) => channel.error(m),
  };
}

const PREFIX = 'mailgwHa:';

/** SecretStorage under our own prefix, with an index so a unit's secrets can be listed and cleared. */
export function secretStorageStore(storage: vscode.SecretStorage): SecretStore {
  return {
    get: (key) => Promise.resolve(storage.get(PREFIX + key)),
    store: (key, value) => Promise.resolve(storage.store(PREFIX + key, value)),
    delete: (key) => Promise.resolve(storage.delete(PREFIX + key)),
  };
}

export function vscodePrompts(): Prompts {
  return {
    async confirmHostKey(q): Promise<TrustDecision> {
      const where = q.port === 22 ? q.host : `[${q.host}]:${q.port}`;
      const other = q.otherKnownTypes.length ? `\n\nThis host is already known with a key of another type (${q.otherKnownTypes.join(', ')}): a new key type can also mean an attack.` : '';
      const trust = 'Trust Permanently';
      const once = 'Accept Once';
      const choice = await vscode.window.showWarningMessage(
        `Unknown host key for ${q.unit} (${where})`,
        {
          modal: true,
          detail: `The unit presents a ${q.keyType} key with fingerprint\n\n${q.fingerprint}\n\nCompare it with the unit's own fingerprint (on the box: ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub) before trusting it.${other}`,
        },
        trust,
        once,
      );
      return choice === trust ? 'always' : choice === once ? 'once' : 'reject';
    },
    async askSecret(q) {
      const value = await vscode.window.showInputBox({
        title: `${q.unit}: ${q.kind === 'password' ? 'Password' : 'Key passphrase'}`,
        prompt: q.retry ? `${q.prompt} (the last one was refused)` : q.prompt,
        password: true,
        ignoreFocusOut: true,
      });
      if (value === undefined) return undefined;
      const keep = await vscode.window.showQuickPick(
        [
          { label: 'Remember in secret storage', description: "VS Code's encrypted secret storage; clear it with Clear Stored Secrets", remember: true },
          { label: 'Only for this session', remember: false },
        ],
        { title: `${q.unit}: keep the ${q.kind}?`, ignoreFocusOut: true },
      );
      return { value, remember: keep?.remember ?? false };
    },
    async askKeyboardInteractive(q) {
      const answers: string[] = [];
      for (const p of q.prompts) {
        const a = await vscode.window.showInputBox({ title: `${q.unit}: ${q.name || 'Login'}`, prompt: [q.instructions, p.prompt].filter(Boolean).join(' — '), password: !p.echo, ignoreFocusOut: true });
        if (a === undefined) return undefined;
        answers.push(a);
      }
      return answers;
    },
  };
}
