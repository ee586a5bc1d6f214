// Errors of the SSH layer. Each message names the unit and says what to do; none carries a secret.

export type SshErrorCode =
  | 'unreachable' // TCP could not connect
  | 'timeout' // no answer within the connect timeout
  | 'auth' // every authentication method was refused
  | 'auth-cancelled' // the user cancelled a password or passphrase prompt
  | 'hostkey-unknown' // unknown key, refused (by the user, or no prompt possible)
  | 'hostkey-changed' // key differs from the one on record: possible attack
  | 'hostkey-revoked'
  | 'lost' // the connection dropped while an operation ran
  | 'closed' // the connection was closed on purpose (settings changed, shutdown)
  | 'exec-timeout'
  | 'config' // ssh config, key file unreadable, ...
  | 'protocol';

/** Errors that retrying cannot fix; the reconnect loop stops on them. */
const FATAL: ReadonlySet<SshErrorCode> = new Set(['auth', 'auth-cancelled', 'hostkey-unknown', 'hostkey-changed', 'hostkey-revoked', 'config', 'closed']);

export class SshError extends Error {
  constructor(
    readonly code: SshErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SshError';
  }
  get fatal(): boolean {
    return FATAL.has(this.code);
  }
}
