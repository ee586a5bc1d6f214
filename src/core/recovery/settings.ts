// Recovery's own settings, read from the raw settings JSON (VS Code configuration or the CLI's file).
import type { SignalMethod } from '../gateway';

/**
 * The text part (after time stamp, type and offset) of the lab's delivery line, one per recipient:
 * `DELIVERY mail delivered (id=…, message-id=…, to=…)`. It is matched against the whole text; the
 * gateway's id and the recipient are what tie a delivery to one mail (the Message-ID is the sender's).
 */
export const DEFAULT_DELIVERY_LOG_PATTERN = String.raw`DELIVERY mail delivered \(id=(?<id>[A-Za-z0-9][A-Za-z0-9._-]*), message-id=(?<messageId>.*), to=(?<to>[^\s()]+)\)`;

export interface RecoverySettings {
  readonly signalMethod: SignalMethod;
  readonly deliveryLogPattern: RegExp;
}

export interface RecoverySettingsResult {
  readonly settings: RecoverySettings;
  readonly errors: string[];
}

export function parseRecoverySettings(raw: Record<string, unknown>): RecoverySettingsResult {
  const errors: string[] = [];
  let signalMethod: SignalMethod = 'pid';
  const sm = raw['mailgwHa.signalMethod'];
  if (sm !== undefined && sm !== null) {
    if (sm === 'pid' || sm === 'kill-by-name') signalMethod = sm;
    else errors.push(`mailgwHa.signalMethod: must be "pid" (default) or "kill-by-name"; got ${JSON.stringify(sm)}. Using "pid".`);
  }
  let deliveryLogPattern = new RegExp(DEFAULT_DELIVERY_LOG_PATTERN);
  const p = raw['mailgwHa.deliveryLogPattern'];
  if (p !== undefined && p !== null && p !== '') {
    try {
      if (typeof p !== 'string') throw new Error('not a string');
      const re = new RegExp(p);
      // A delivery proves a mail gone only when the line names the gateway's id and the recipient.
      const missing = ['id', 'to'].filter((g) => !new RegExp(String.raw`\(\?<${g}>`).test(p));
      if (missing.length) throw new Error(`it has no named group ${missing.map((g) => `(?<${g}>…)`).join(' and ')}: a delivery line must name the gateway's mail id and the recipient (a Message-ID alone proves nothing, senders choose it)`);
      deliveryLogPattern = re;
    } catch (e) {
      errors.push(`mailgwHa.deliveryLogPattern: ${(e as Error).message}; using the default ${DEFAULT_DELIVERY_LOG_PATTERN}.`);
    }
  }
  return { settings: { signalMethod, deliveryLogPattern }, errors };
}
