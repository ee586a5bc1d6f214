// The extension's state on this machine (recovery journals and their locks, held lists, reports,
// the audit trail, the trust store) says which mails moved where, who ran what, and which host keys
// are trusted: it is private to the user. Folders are 0700 and files 0600 whatever the umask, and a
// folder or file made earlier with another mode is tightened — a folder only where it is the
// extension's own (its state folder <state home>/mailgw-ha and what is below it, the extension's
// storage folder): a folder the admin named for a journal or the audit trail keeps its mode, only
// the folders the extension makes there are 0700.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** $XDG_STATE_HOME (when absolute, as the XDG spec requires), else ~/.local/state. */
export function stateHome(env: NodeJS.ProcessEnv = process.env): string {
  const x = env.XDG_STATE_HOME;
  return x && path.isAbsolute(x) ? x : path.join(os.homedir(), '.local', 'state');
}

/** The extension's own state folder (journals, reports, held lists, the default audit trail). */
export function stateRoot(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(stateHome(env), 'mailgw-ha');
}

/** Further folders that are the extension's own (the VS Code extension's storage folder). */
const ownRoots = new Set<string>();

/** Declares a folder the extension's own: it and what is below it are kept 0700. */
export function addOwnFolder(dir: string): void {
  ownRoots.add(path.resolve(dir));
}

/** The own root `dir` is in (or is), if any. */
function ownRootOf(dir: string): string | undefined {
  const d = path.resolve(dir);
  for (const root of [stateRoot(), ...ownRoots]) {
    const rel = path.relative(root, d);
    if (rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))) return root;
  }
  return undefined;
}

function tighten(p: string, mode: number): void {
  const st = fs.statSync(p);
  if ((st.mode & 0o777) !== mode) fs.chmodSync(p, mode);
}

/**
 * Makes a folder for state files: the folders it makes are 0700; an existing folder that is the
 * extension's own (see above) is tightened to 0700, from its root down. `own`: the folder itself
 * is the extension's own wherever it is (the trust store's folder).
 */
export function makePrivateDir(dir: string, options: { own?: boolean } = {}): void {
  const target = path.resolve(dir);
  const first = fs.mkdirSync(target, { recursive: true, mode: PRIVATE_DIR_MODE });
  // What mkdir made, exactly 0700 (the umask could have taken more away).
  if (first) for (let d = target; ; d = path.dirname(d)) {
    tighten(d, PRIVATE_DIR_MODE);
    if (d === path.resolve(first) || d === path.dirname(d)) break;
  }
  const root = options.own ? target : ownRootOf(target);
  if (!root) return;
  for (let d = target; ; d = path.dirname(d)) {
    tighten(d, PRIVATE_DIR_MODE);
    if (d === root || d === path.dirname(d)) break;
  }
}

/** Opens (making it if missing) a state file; it is 0600 afterwards even if it existed with another mode. */
export function openPrivateFile(file: string, flags: 'a' | 'w' | 'wx'): number {
  const fd = fs.openSync(file, flags, PRIVATE_FILE_MODE);
  try {
    if ((fs.fstatSync(fd).mode & 0o777) !== PRIVATE_FILE_MODE) fs.fchmodSync(fd, PRIVATE_FILE_MODE);
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  return fd;
}

/** Writes a state file whole (its folder made private): to a private temporary name beside it, then renamed into place. */
export function writePrivateFile(file: string, data: string | Buffer): void {
  makePrivateDir(path.dirname(file));
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openPrivateFile(tmp, 'w');
  try {
    fs.writeFileSync(fd, data);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

/** A state file moved or made by other means (an adopted journal): 0600. */
export function tightenFile(file: string): void {
  tighten(file, PRIVATE_FILE_MODE);
}
