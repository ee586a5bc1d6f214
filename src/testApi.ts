// What the extension exports when, and only when, it runs in VS Code's test mode
// (context.extensionMode === ExtensionMode.Test: a test runner started it with extensionTestsPath).
// It reaches the connection pool and the recovery actions with their confirmations answered, so
// the product never exports it: installed from a .vsix the extension exports nothing.
import type { RecoveryActions } from './commands/recoveryCommands';
import type { Services } from './services';
import type { MessageTestHook } from './safeWindow';
import type { ClusterTreeProvider } from './views/clusterTree';
import type { FleetViewProvider } from './views/fleetView';

export interface MailgwHaTestApi {
  readonly clusterTree: ClusterTreeProvider;
  readonly fleet: FleetViewProvider;
  readonly services: Services;
  /** Recover, Copy to Primary, Send SIGUSR2 and Remove Mails, whose options may skip their dialogs. */
  readonly actions: RecoveryActions;
  /** Sees every message shown (as shown, after neutralising); may answer a modal instead of the user. */
  setMessageHook(hook: MessageTestHook | undefined): void;
  /** The extension's own share of its activation: loading its bundle, and activate() itself (ms). */
  readonly timing: { readonly loadMs?: number; readonly activateMs: number };
}
