// Recovery's own settings, read from the raw settings JSON (VS Code configuration or the CLI's file).
import type { SignalMethod } from '../gateway';

/** Matches the lab's `DELIVERY mail delivered (id=…, message-id=<…>, to=…)`. */
export const DEFAULT_DELIVERY_LOG_PATTERN = String.raw`DELIVERY mail delivered \(id=(?<id>[^,)\s]+), message-id=(?<messageId><[^>\s]+>)`;

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
      if (!/\(\?<messageId>/.test(p)) throw new Error('it has no named group (?<messageId>…)');
      deliveryLogPattern = re;
    } catch (e) {
      errors.push(`mailgwHa.deliveryLogPattern: ${(e as Error).message}; using the default ${DEFAULT_DELIVERY_LOG_PATTERN}.`);
    }
  }
  return { settings: { signalMethod, deliveryLogPattern }, errors };
}
