// Box profiles of the lab: each a real variant of the unit (another SSH server, an SSH server that
// offers only old algorithms, a BusyBox userland, the box's documented log style), never a mock.
// `npm run lab -- up --profile NAME`, `new Lab({ profile })`, MAILGW_LAB_PROFILE for the integration
// suites (test/integration/hooks.ts). See docs/lab.md "Box profiles".
import type { Algorithms } from 'ssh2';

export const PROFILE_NAMES = ['default', 'legacy', 'dropbear', 'minimal', 'box-log'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

export interface Profile {
  readonly name: ProfileName;
  /** One line for `lab up` / `lab status`. */
  readonly summary: string;
  /** The SSH server of both units. */
  readonly server: 'openssh' | 'dropbear';
  /** The units' host key type. */
  readonly hostKeyType: 'ed25519' | 'rsa';
  /** Extra sshd_config lines (OpenSSH units). */
  readonly sshdExtra: readonly string[];
  /**
   * ssh_config options ("Keyword value") the lab's own OpenSSH clients need to reach a unit: given as
   * `-o Keyword=value` (sshArgs, the HA sync) and written into ssh_config and each unit's /root/.ssh/config.
   */
  readonly clientOptions: readonly string[];
  /** Both units' userland tools are BusyBox's (overlay on /usr/bin), /bin/kill takes names. */
  readonly busybox: boolean;
  /** The gateway log as the box is documented to write it (local time, type before offset, sub-log name). */
  readonly boxLog: boolean;
  /**
   * ssh2 `algorithms` for the lab's own tests that log in with ssh2 to check the lab itself (accounts,
   * dropped sessions); undefined: ssh2's defaults work. The product is never given these.
   */
  readonly ssh2Algorithms?: Algorithms;
  /**
   * What the admin of such a box writes as each unit's `algorithms` in mailgwHa.clusters (the lab's
   * settings carry it unless told not to: then the product must say what to set).
   */
  readonly unitAlgorithms?: Readonly<Record<string, string>>;
}

/** What the legacy units' sshd offers (older box firmware): nothing else. */
export const LEGACY_ALGORITHMS = {
  hostKey: 'ssh-rsa',
  kex: 'diffie-hellman-group14-sha1',
  ciphers: 'aes128-ctr,aes256-ctr',
  macs: 'hmac-sha1',
} as const;

const BASE: Omit<Profile, 'name' | 'summary'> = { server: 'openssh', hostKeyType: 'ed25519', sshdExtra: [], clientOptions: [], busybox: false, boxLog: false };

export const PROFILES: Record<ProfileName, Profile> = {
  default: { ...BASE, name: 'default', summary: 'OpenSSH, Debian userland, the lab\'s log style' },
  legacy: {
    ...BASE,
    name: 'legacy',
    summary: `OpenSSH offering only ${LEGACY_ALGORITHMS.hostKey} / ${LEGACY_ALGORITHMS.kex} / ${LEGACY_ALGORITHMS.ciphers} / ${LEGACY_ALGORITHMS.macs} (older firmware)`,
    hostKeyType: 'rsa',
    sshdExtra: [
      `HostKeyAlgorithms ${LEGACY_ALGORITHMS.hostKey}`,
      `PubkeyAcceptedAlgorithms +ssh-rsa`,
      `KexAlgorithms ${LEGACY_ALGORITHMS.kex}`,
      `Ciphers ${LEGACY_ALGORITHMS.ciphers}`,
      `MACs ${LEGACY_ALGORITHMS.macs}`,
    ],
    // OpenSSH 9's client no longer offers ssh-rsa host keys nor group14-sha1 by default.
    clientOptions: [`HostKeyAlgorithms +${LEGACY_ALGORITHMS.hostKey}`, `KexAlgorithms +${LEGACY_ALGORITHMS.kex}`],
    ssh2Algorithms: { kex: [LEGACY_ALGORITHMS.kex], serverHostKey: [LEGACY_ALGORITHMS.hostKey], cipher: ['aes128-ctr', 'aes256-ctr'], hmac: [LEGACY_ALGORITHMS.macs] },
    // ssh2 offers ssh-rsa, aes-ctr and hmac-sha1 by default; the old key exchange must be added.
    unitAlgorithms: { KexAlgorithms: `+${LEGACY_ALGORITHMS.kex}` },
  },
  dropbear: { ...BASE, server: 'dropbear', name: 'dropbear', summary: 'Dropbear SSH server (Debian dropbear-bin), SFTP through /usr/lib/sftp-server' },
  minimal: { ...BASE, name: 'minimal', summary: 'BusyBox userland (sh, find, stat, tar, awk, ...; no pgrep/pkill), /bin/kill takes names', busybox: true },
  'box-log': { ...BASE, name: 'box-log', summary: 'log srv_<server>_<service>_mailgw.log in local time, type before offset, Notice/Security/Internal lines', boxLog: true },
};

export function profileOf(name: string | undefined): Profile {
  const n = name === undefined || name === '' ? 'default' : name;
  if (!(PROFILE_NAMES as readonly string[]).includes(n)) throw new Error(`lab: unknown profile "${n}" (one of ${PROFILE_NAMES.join(', ')})`);
  return PROFILES[n as ProfileName];
}

/** The profile named by $MAILGW_LAB_PROFILE (default: default). */
export function profileFromEnv(): ProfileName {
  return profileOf(process.env.MAILGW_LAB_PROFILE).name;
}

/** The box-log profile's default time zone: non-zero offset all year (+01:00 in winter, +02:00 in summer). */
export const BOX_TIME_ZONE = 'Europe/Vienna';

/**
 * `YYYY MM DD HH:MM:SS` of `d` in the IANA `timeZone`, and that zone's UTC offset then (`+01:00`).
 * A fixed offset is a zone too: `Etc/GMT-1` is +01:00 (POSIX signs are inverted).
 */
export function zonedStamp(d: Date, timeZone: string): { stamp: string; offset: string } {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    timeZoneName: 'longOffset',
  }).formatToParts(d);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  // "GMT+01:00", or "GMT" for a zero offset.
  const gmt = get('timeZoneName').replace(/^GMT/, '');
  return { stamp: `${get('year')} ${get('month')} ${get('day')} ${get('hour')}:${get('minute')}:${get('second')}`, offset: gmt === '' ? '+00:00' : gmt };
}

/** Checks an IANA time zone name (Intl throws a RangeError for an unknown one). */
export function checkTimeZone(timeZone: string): string {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    throw new Error(`lab: unknown time zone "${timeZone}" (an IANA name such as Europe/Vienna, or Etc/GMT-1 for a fixed +01:00)`);
  }
  return timeZone;
}
