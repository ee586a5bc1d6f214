// Test Connection, Clear Stored Secrets, Forget Host Key.
import * as vscode from 'vscode';
import * as safeWindow from '../safeWindow';
import { messageText } from '../core/text/message';
import { findGateway } from '../core/gateway';
import { removeFromTrustStore } from '../core/ssh/hostKeys';
import { resolveTarget } from '../core/ssh/sshConfig';
import type { Services } from '../services';
import { pickUnit } from './pickUnit';

export interface ConnectionTestResult {
  readonly unit: string;
  readonly ok: boolean;
  readonly authMethod?: string;
  readonly hostKey?: string;
  readonly roundTripMs?: number;
  readonly gatewayPids?: number[];
  readonly error?: string;
}

export function registerConnectionCommands(services: Services): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand('mailgwHa.testConnection', async (arg?: unknown): Promise<ConnectionTestResult | undefined> => {
      const ref = await pickUnit(services, arg, 'Test connection to which unit?');
      if (!ref) return undefined;
      const conn = services.pool.get(ref.unit);
      return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: messageText(`Connecting to ${ref.unit.key}…`) }, async () => {
        try {
          await conn.connect();
          const started = Date.now();
          const gw = await findGateway(conn, ref.cluster);
          const rtt = Date.now() - started;
          const info = conn.info!;
          const result: ConnectionTestResult = { unit: ref.unit.key, ok: true, authMethod: info.authMethod, hostKey: `${info.hostKeyType} ${info.fingerprint}`, roundTripMs: rtt, gatewayPids: [...gw.pids] };
          const gwText = gw.pids.length ? `gateway ${gw.processName} runs (PID ${gw.pids.join(', ')}): active unit` : `gateway ${gw.processName} not running: standby`;
          services.logger.info(`${ref.unit.key}: test OK: ${info.authMethod}, ${result.hostKey}, round trip ${rtt} ms, ${gwText}`);
          void safeWindow.showInformationMessage(`${ref.unit.key}: connected as ${info.target.username} by ${info.authMethod}; host key ${result.hostKey}; round trip ${rtt} ms; ${gwText}.`);
          return result;
        } catch (err) {
          const message = (err as Error).message;
          services.logger.error(message);
          void safeWindow.showErrorMessage(message, 'Show Log').then((c) => c && services.output.show(true));
          return { unit: ref.unit.key, ok: false, error: message };
        }
      });
    }),
    vscode.commands.registerCommand('mailgwHa.clearSecrets', async (arg?: unknown) => {
      const ref = await pickUnit(services, arg, 'Clear the stored password and passphrases of which unit?');
      if (!ref) return;
      // Asked every time (an argument cannot skip it): clearing logs the unit out of what it remembered.
      const ok = await safeWindow.showWarningMessage(
        `Clear the stored password and key passphrases of ${ref.unit.key}?`,
        { modal: true, detail: 'They are kept in VS Code\'s secret storage. You will be asked for them again on the next connection to this unit.' },
        'Clear Secrets',
      );
      if (ok !== 'Clear Secrets') return;
      const n = await services.pool.get(ref.unit).clearSecrets();
      services.logger.info(`${ref.unit.key}: cleared ${n} stored secret(s)`);
      void safeWindow.showInformationMessage(`${ref.unit.key}: ${n ? `${n} stored secret(s) cleared` : 'no stored secret'}; you will be asked again on the next connection.`);
    }),
    vscode.commands.registerCommand('mailgwHa.forgetHostKey', async (arg?: unknown) => {
      const ref = await pickUnit(services, arg, "Forget which unit's trusted host key?");
      if (!ref) return;
      let host = ref.unit.host;
      let port = ref.unit.port ?? 22;
      try {
        const t = resolveTarget(ref.unit.host, { port: ref.unit.port, username: ref.unit.username });
        host = t.hostName;
        port = t.port;
      } catch {
        // an unresolvable alias: forget by the name as written
      }
      const ok = await safeWindow.showWarningMessage(
        `Forget the trusted host key of ${ref.unit.key} (${host}:${port})?`,
        { modal: true, detail: `The key is removed from the extension's trust store (${services.trustStoreFile}). On the next connection the unit's key is shown with its fingerprint and you decide again whether to trust it; check the fingerprint on the unit's console. Keys in ~/.ssh/known_hosts or mailgwHa.knownHostsFile are not changed.` },
        'Forget Host Key',
      );
      if (ok !== 'Forget Host Key') return;
      const n = removeFromTrustStore(services.trustStoreFile, host, port);
      services.pool.peek(ref.unit.key)?.reset();
      services.logger.info(`${ref.unit.key}: removed ${n} key(s) of ${host}:${port} from the extension's trust store`);
      void safeWindow.showInformationMessage(
        n ? `${ref.unit.key}: forgot ${n} trusted key(s); you will be asked to confirm the key on the next connection.` : `${ref.unit.key}: the extension's trust store holds no key for ${host}:${port}. Keys in ~/.ssh/known_hosts or mailgwHa.knownHostsFile are never changed by the extension: remove them with ssh-keygen -R.`,
      );
    }),
  ];
}
