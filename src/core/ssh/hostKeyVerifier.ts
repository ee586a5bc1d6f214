// Whether to trust the host key a unit presents, decided before any authentication: trusted by
// known_hosts or the extension's trust store; refused when @revoked or CHANGED (never overridable,
// whatever the settings say); unknown keys are trusted for the session only when the user confirms
// the fingerprint (or the CLI was given --accept-new), and permanently only when the user says so.
import type { Logger, Prompts } from '../host';
import { SshError } from './errors';
import { addToTrustStore, keyTypeOfBlob, KnownHosts } from './hostKeys';
import type { SshTarget } from './sshConfig';

export interface HostKeySeen {
  readonly type: string;
  readonly fingerprint: string;
  readonly blob: Buffer;
}

export interface HostKeyVerifierOptions {
  /** The unit, for messages. */
  readonly label: string;
  readonly target: SshTarget;
  /** Other names the key may be recorded under (the ssh config alias). */
  readonly aliases: readonly string[];
  readonly known: KnownHosts;
  /** false on automatic reconnects: an unknown key is then refused, never asked about. */
  readonly interactive: boolean;
  readonly acceptNew: boolean;
  /** `host:port fingerprint` accepted in this session (shared by a unit's connections). */
  readonly sessionTrust: Set<string>;
  readonly prompts: Prompts;
  readonly trustStoreFile?: string;
  readonly logger: Logger;
  /** Runs a prompt with the connect timeout paused. */
  readonly whilePrompting: <T>(fn: () => Promise<T>) => Promise<T>;
}

export interface HostKeyVerifier {
  /** ssh2's hostVerifier. */
  readonly verify: (blob: Buffer, verify: (ok: boolean) => void) => void;
  /** The key presented, once the server sent it. */
  seen(): HostKeySeen | undefined;
  /** Why the key was refused (the error to report instead of ssh2's own). */
  refusal(): SshError | undefined;
}

export function createHostKeyVerifier(options: HostKeyVerifierOptions): HostKeyVerifier {
  const { label, target, aliases, known, interactive, acceptNew, sessionTrust, prompts, trustStoreFile, logger, whilePrompting } = options;
  const trustKey = `${target.hostName}:${target.port}`;
  let seen: HostKeySeen | undefined;
  let refusal: SshError | undefined;
  const verifyHostKey = (blob: Buffer, verify: (ok: boolean) => void) => {
    const key = { type: keyTypeOfBlob(blob), blob };
    const check = known.check(target.hostName, target.port, key, aliases);
    seen = { type: key.type, fingerprint: check.fingerprint, blob: Buffer.from(blob) };
    const where = target.port === 22 ? target.hostName : `[${target.hostName}]:${target.port}`;
    if (check.status === 'trusted') return verify(true);
    if (check.status === 'revoked') {
      refusal = new SshError('hostkey-revoked', `${label}: the host key ${key.type} ${check.fingerprint} of ${where} is marked @revoked in ${check.source}. Connection refused.`);
      return verify(false);
    }
    if (check.status === 'changed') {
      refusal = new SshError(
        'hostkey-changed',
        `${label}: HOST KEY CHANGED for ${where}: it now presents ${key.type} ${check.fingerprint}, which differs from the key recorded in ${check.source}. ` +
          `This may be an attack (someone in the middle), or the unit was reinstalled. Connection refused before logging in. ` +
          `If the change is expected, remove the old key (run "ssh-keygen -R '${where}' -f ${check.source?.replace(/:\d+$/, '')}" or the command "mailgw-ha: Forget Host Key") and connect again.`,
      );
      return verify(false);
    }
    if (sessionTrust.has(`${trustKey} ${check.fingerprint}`) || acceptNew) {
      logger.warn(`${label}: accepting unknown host key ${key.type} ${check.fingerprint} of ${where} for this session`);
      sessionTrust.add(`${trustKey} ${check.fingerprint}`);
      return verify(true);
    }
    const refuse = (why: string) => {
      refusal = new SshError('hostkey-unknown', `${label}: the host key ${key.type} ${check.fingerprint} of ${where} is not known and ${why}. Compare the fingerprint with the unit's (ssh-keygen -lf /etc/ssh/ssh_host_${key.type.replace(/^ssh-|-sha2-nistp\d+$/g, '')}_key.pub on the box) and trust it when asked, or add it to the known_hosts file.`);
      verify(false);
    };
    if (!interactive) return refuse('was not confirmed (no prompt on automatic reconnects)');
    whilePrompting(() => prompts.confirmHostKey({ unit: label, host: target.hostName, port: target.port, keyType: key.type, fingerprint: check.fingerprint, otherKnownTypes: check.otherKnownTypes ?? [] }))
      .then((decision) => {
        if (decision === 'reject') return refuse('was refused');
        sessionTrust.add(`${trustKey} ${check.fingerprint}`);
        if (decision === 'always' && trustStoreFile) {
          try {
            addToTrustStore(trustStoreFile, target.hostName, target.port, key);
            logger.info(`${label}: host key ${key.type} ${check.fingerprint} of ${where} trusted permanently (${trustStoreFile})`);
          } catch (err) {
            logger.warn(`${label}: could not save the trusted host key: ${(err as Error).message}`);
          }
        }
        verify(true);
      })
      .catch((err: Error) => refuse(`the question failed (${err.message})`));
  };
  return { verify: verifyHostKey, seen: () => seen, refusal: () => refusal };
}
