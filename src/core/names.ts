// Names that end up in remote paths, process names and shell commands. They are validated against
// strict allow-lists and refused otherwise: quoting is a second line of defence, never the first.

/** Server and service names as the box shows them: case kept, letters, digits and '-'. */
export const SERVICE_PART_PATTERN = /^[A-Za-z0-9][A-Za-z0-9-]{0,31}$/;

/** Linux keeps only the first 15 characters of a process name (comm). */
export const COMM_LENGTH = 15;

export function isValidServicePart(value: string): boolean {
  return SERVICE_PART_PATTERN.test(value);
}

/** The gateway's name, `<server>_<service>`: its spool folder and its process name. */
export function gatewayName(server: string, service: string): string {
  if (!isValidServicePart(server)) throw new Error(`invalid server name ${JSON.stringify(server)}`);
  if (!isValidServicePart(service)) throw new Error(`invalid service name ${JSON.stringify(service)}`);
  return `${server}_${service}`;
}

/** The name the kernel shows for the gateway process: `<server>_<service>` cut to 15 characters. */
export function gatewayProcessName(server: string, service: string): string {
  return gatewayName(server, service).slice(0, COMM_LENGTH);
}

/**
 * A mail id as it appears in spool file names (`<id>.env`, `<id>.body`). Real ids look like
 * `12345-67890-12345`; other boxes may differ, so any short name of letters, digits, '-', '_' and
 * inner dots is accepted. Anything else (spaces, quotes, newlines, '..', '/') is not a mail we touch.
 */
export const MAIL_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*$/;
export const MAIL_ID_MAX_LENGTH = 128;

export function isSafeMailId(id: string): boolean {
  return id.length <= MAIL_ID_MAX_LENGTH && MAIL_ID_PATTERN.test(id) && !/\.(?:env|body)$/.test(id);
}

/** Absolute POSIX path made of safe segments: no '..', no control characters, no shell metacharacters. */
export function isSafeAbsolutePath(p: string): boolean {
  if (!p.startsWith('/') || p.length > 4096) return false;
  return p
    .split('/')
    .slice(1)
    .every((seg, i, all) => (seg === '' ? i === all.length - 1 || all.length === 1 : /^[A-Za-z0-9._+-]+$/.test(seg) && seg !== '..' && seg !== '.'));
}

/** Quotes one argument for a POSIX shell. */
export function shellQuote(arg: string): string {
  if (arg.includes('\0')) throw new Error('argument contains a NUL byte');
  if (/^[A-Za-z0-9_./=:@%+,-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Builds a shell command line from a program and its arguments, every one quoted. */
export function shellCommand(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error('empty command');
  return argv.map(shellQuote).join(' ');
}
