// Audit entries of the actions outside a recovery run, shared by the extension and the CLI: a
// SIGUSR2 sent to a gateway (Send SIGUSR2, `mailgw-ha signal`) and proved duplicates removed from a
// standby (Remove Mails).
import type { ClusterConfig, UnitConfig } from '../config';
import type { SpoolFolder } from '../spool/list';
import type { AuditEntry } from './record';
import { unitFields } from './record';

/** A signal sent (with the PID or command it used) or a failed attempt (with why). */
export function signalEntry(cluster: ClusterConfig, unit: UnitConfig, result: { pid?: number; command: string } | { error: string }): AuditEntry {
  const ok = !('error' in result);
  return {
    ...unitFields(cluster, unit),
    action: 'signal',
    mails: [],
    outcome: ok ? 'ok' : 'failed',
    detail: ok ? `SIGUSR2 ${result.pid !== undefined ? `to PID ${result.pid}` : 'by name'}: ${result.command}` : `SIGUSR2 not confirmed (it may have been sent): ${result.error}`,
  };
}

/** Proved duplicates removed from a standby (or an attempt that failed, naming the mails it was to remove). */
export function removalEntry(cluster: ClusterConfig, unit: UnitConfig, mails: readonly { id: string; folder: SpoolFolder; messageId?: string; why?: string }[], error?: string): AuditEntry {
  const primary = cluster.units.find((u) => u.key !== unit.key)?.name ?? 'the active unit';
  return {
    ...unitFields(cluster, unit),
    action: 'remove-duplicates',
    mails: mails.map((m) => ({ id: m.id, folder: m.folder, messageId: m.messageId })),
    outcome: error === undefined ? 'ok' : 'failed',
    detail: error === undefined ? `removed from ${unit.name}, each proved on ${primary} right before (Remove Mails)` : `Remove Mails failed (some of these may be removed): ${error}`,
  };
}
