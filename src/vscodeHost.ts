// The VS Code side of the core's host interfaces: prompts as QuickPick/InputBox, secrets in
// SecretStorage, the log in a LogOutputChannel.
import * as vscode from 'vscode';
import * as safeWindow from './safeWindow';
import type { Logger, Prompts, SecretStore, TrustDecision } from './core/host';
import { messageText } from './core/text/message';
import { logLineText } from './core/text/terminal';

export function outputLogger(channel: vscode.LogOutputChannel): Logger {
  return {
    // One entry per call: a line feed or an escape sequence inside a message cannot fake another entry.
    debug: (m) => channel.debug(logLineText(m)),
    info: (m) => channel.info(logLineText(m)),
    warn: (m) => channel.warn(logLineText(m)),
    error: (m) => channel.error(logLineText(m)),
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
      const refuse = 'Do Not Connect';
      const choice = await safeWindow.showWarningMessage(
        `Unknown host key for ${q.unit} (${where})`,
        {
          modal: true,
          detail: `The unit presents a ${q.keyType} key with fingerprint\n\n${q.fingerprint}\n\nCompare it with the unit's own fingerprint (on the box: ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub) before trusting it.${other}`,
        },
        // The first button of a modal has the focus, so Enter must not accept an unknown key:
        // refusing comes first, Trust Permanently last.
        refuse,
        once,
        trust,
      );
      return choice === trust ? 'always' : choice === once ? 'once' : 'reject';
    },
    async askSecret(q) {
      const value = await vscode.window.showInputBox({
        title: messageText(`${q.unit}: ${q.kind === 'password' ? 'Password' : 'Key passphrase'}`, { max: 200 }),
        prompt: messageText(q.retry ? `${q.prompt} (the last one was refused)` : q.prompt, { max: 500 }),
        password: true,
        ignoreFocusOut: true,
      });
      if (value === undefined) return undefined;
      const keep = await vscode.window.showQuickPick(
        [
          { label: 'Remember in secret storage', description: "VS Code's encrypted secret storage; clear it with Clear Stored Secrets", remember: true },
          { label: 'Only for this session', remember: false },
        ],
        { title: messageText(`${q.unit}: keep the ${q.kind}?`, { max: 200 }), ignoreFocusOut: true },
      );
      return { value, remember: keep?.remember ?? false };
    },
    async askKeyboardInteractive(q) {
      const answers: string[] = [];
      for (const p of q.prompts) {
        // Name, instructions and prompt are the server's words: shown as plain text, never as links or icons.
        const a = await vscode.window.showInputBox({ title: messageText(`${q.unit}: ${q.name || 'Login'}`, { max: 200 }), prompt: messageText([q.instructions, p.prompt].filter(Boolean).join(' — '), { max: 500 }), password: !p.echo, ignoreFocusOut: true });
        if (a === undefined) return undefined;
        answers.push(a);
      }
      return answers;
    },
  };
}
