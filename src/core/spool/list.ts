// Lists a gateway folder on a unit and pairs `<id>.env` + `<id>.body` into mails. One SFTP readdir
// (attributes come from lstat, so symlinks are seen as links and never followed), pipelined.
import { ClusterConfig, gatewayDirs } from '../config';
import { isSafeMailId } from '../names';
import type { SFTPWrapper } from 'ssh2';
import type { UnitConnection } from '../ssh/connection';

export type SpoolFolder = 'spool' | 'vscan' | 'input';
export const SPOOL_FOLDERS: readonly SpoolFolder[] = ['spool', 'vscan', 'input'];

export interface MailFile {
  readonly name: string;
  readonly size: number;
  readonly mtimeMs: number;
}

export interface MailEntry {
  readonly id: string;
  readonly folder: SpoolFolder;
  readonly body?: MailFile;
  readonly env?: MailFile;
  /** Both files present. */
  readonly complete: boolean;
  /** Sum of the present files. */
  readonly size: number;
  /** Oldest mtime of the present files. */
  readonly mtimeMs: number;
}

export type IgnoredReason = 'temporary' | 'unsafe-name' | 'not-a-regular-file' | 'not-a-mail-file';

export interface IgnoredEntry {
  readonly name: string;
  readonly reason: IgnoredReason;
}

export interface FolderListing {
  readonly folder: SpoolFolder;
  readonly path: string;
  /** Complete and incomplete mails, oldest first. */
  readonly mails: readonly MailEntry[];
  readonly completeCount: number;
  readonly incompleteCount: number;
  readonly totalBytes: number;
  readonly oldestMtimeMs?: number;
  /** Entries that are not mails we would touch, with why (reported, never moved or removed). */
  readonly ignored: readonly IgnoredEntry[];
  /** The folder does not exist on the unit. */
  readonly missing: boolean;
  /** How it was read (listFolder sets it). */
  readonly via?: 'sftp' | 'find';
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;

export interface RawDirEntry {
  readonly filename: string;
  readonly mode: number;
  readonly size: number;
  readonly mtime: number; // seconds
}

/** Pairs directory entries into mails. Pure, so it is unit-tested without a unit. */
export function pairEntries(folder: SpoolFolder, path: string, entries: readonly RawDirEntry[]): FolderListing {
  const byId = new Map<string, { body?: MailFile; env?: MailFile }>();
  const ignored: IgnoredEntry[] = [];
  for (const e of entries) {
    const name = e.filename;
    if (name === '.' || name === '..') continue;
    if (name.startsWith('.')) {
      ignored.push({ name, reason: 'temporary' });
      continue;
    }
    // endsWith rather than a regex: this runs for every file of folders with 100,000 of them.
    const part = name.endsWith('.body') ? 'body' : name.endsWith('.env') ? 'env' : undefined;
    if (!part) {
      ignored.push({ name, reason: 'not-a-mail-file' });
      continue;
    }
    const id = name.slice(0, name.length - part.length - 1);
    if (!isSafeMailId(id)) {
      ignored.push({ name, reason: 'unsafe-name' });
      continue;
    }
    if ((e.mode & S_IFMT) !== S_IFREG) {
      ignored.push({ name, reason: 'not-a-regular-file' });
      continue;
    }
    const file: MailFile = { name, size: e.size, mtimeMs: e.mtime * 1000 };
    let slot = byId.get(id);
    if (!slot) byId.set(id, (slot = {}));
    if (part === 'env') slot.env = file;
    else slot.body = file;
  }
  const mails: MailEntry[] = [];
  let totalBytes = 0;
  let completeCount = 0;
  for (const [id, { body, env }] of byId) {
    const size = (body?.size ?? 0) + (env?.size ?? 0);
    const mtimeMs = Math.min(body?.mtimeMs ?? Infinity, env?.mtimeMs ?? Infinity);
    const complete = !!body && !!env;
    if (complete) completeCount++;
    totalBytes += size;
    mails.push({ id, folder, body, env, complete, size, mtimeMs });
  }
  mails.sort((a, b) => a.mtimeMs - b.mtimeMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return {
    folder,
    path,
    mails,
    completeCount,
    incompleteCount: mails.length - completeCount,
    totalBytes,
    oldestMtimeMs: mails.length ? mails[0].mtimeMs : undefined,
    ignored,
    missing: false,
  };
}

/** READDIR requests kept in flight: each answer carries ~100 entries, so round trips, not bytes, bound a big folder. */
const READDIR_DEPTH = 16;

/**
 * Reads a whole directory with several READDIR requests in flight on one handle (the server answers
 * them in order with successive batches; the ones past the end get EOF). ssh2's own readdir(path)
 * waits for each batch before asking for the next. Resolves undefined if the folder does not exist.
 */
function readdirPipelined(sftp: SFTPWrapper, path: string): Promise<RawDirEntry[] | undefined> {
  return new Promise((resolve, reject) => {
    sftp.opendir(path, (err, handle) => {
      if (err) {
        if ((err as { code?: number }).code === 2) return resolve(undefined); // SSH_FX_NO_SUCH_FILE
        return reject(err);
      }
      const entries: RawDirEntry[] = [];
      let inFlight = 0;
      let eof = false;
      let failure: Error | undefined;
      const finish = () => sftp.close(handle, () => (failure ? reject(failure) : resolve(entries)));
      const issue = () => {
        while (!eof && !failure && inFlight < READDIR_DEPTH) {
          inFlight++;
          sftp.readdir(handle, (e, list) => {
            inFlight--;
            if (e) {
              if ((e as { code?: number }).code === 1) eof = true; // SSH_FX_EOF
              else failure ??= e;
            } else if (Array.isArray(list)) {
              for (const x of list) entries.push({ filename: x.filename, mode: x.attrs.mode, size: x.attrs.size, mtime: x.attrs.mtime });
            } else eof = true;
            if (eof || failure) {
              if (inFlight === 0) finish();
            } else issue();
          });
        }
      };
      issue();
    });
  });
}

export interface ListOptions {
  /**
   * 'sftp' (default): SFTP READDIR, works on any SSH server with SFTP. 'auto': one `find -printf`
   * stream on an exec channel when the unit's find supports it (GNU find; about twice as fast for
   * big folders: no per-entry ls-style longname, less parsing), else SFTP. The answer is
   * remembered per connection.
   */
  readonly method?: 'sftp' | 'auto';
}

// Fixed script; the folder arrives as "$1". Exit 3: no such folder. %y is the type of the entry
// itself (lstat: a symlink is 'l', never followed), NUL-separated so any file name survives.
const FIND_SCRIPT = `[ -d "$1" ] || exit 3
cd -- "$1" || exit 4
exec find . -mindepth 1 -maxdepth 1 -printf '%y %s %T@ %f\\0'`;

const findWorks = new WeakMap<UnitConnection, boolean>();

/** Entries through find; undefined: the folder is missing; null: find cannot do it here (use SFTP). */
async function readdirFind(connection: UnitConnection, path: string): Promise<RawDirEntry[] | undefined | null> {
  const r = await connection.execScript(FIND_SCRIPT, [path], { timeoutMs: 120_000, readOnly: true });
  if (r.code === 3) return undefined;
  if (r.code !== 0) return null;
  const out = r.stdout.toString('utf8');
  const entries: RawDirEntry[] = [];
  let start = 0;
  for (let end = out.indexOf('\0'); end >= 0; start = end + 1, end = out.indexOf('\0', start)) {
    const rec = out.slice(start, end);
    const a = rec.indexOf(' ');
    const b = rec.indexOf(' ', a + 1);
    const c = rec.indexOf(' ', b + 1);
    if (a !== 1 || b < 0 || c < 0) return null; // not the format asked for: not GNU find
    const size = Number(rec.slice(a + 1, b));
    const mtime = Math.floor(Number(rec.slice(b + 1, c)));
    if (!Number.isFinite(size) || !Number.isFinite(mtime)) return null;
    entries.push({ filename: rec.slice(c + 1), mode: rec[0] === 'f' ? S_IFREG | 0o644 : 0, size, mtime });
  }
  if (start !== out.length) return null;
  return entries;
}

export async function listFolder(connection: UnitConnection, cluster: ClusterConfig, folder: SpoolFolder, options: ListOptions = {}): Promise<FolderListing> {
  const path = gatewayDirs(cluster)[folder];
  let entries: RawDirEntry[] | undefined | null = null;
  if (options.method === 'auto' && findWorks.get(connection) !== false) {
    entries = await readdirFind(connection, path);
    if (entries === null) findWorks.set(connection, false);
    else findWorks.set(connection, true);
  }
  if (entries === null) {
    entries = await connection.withSftp(
      (sftp) =>
        readdirPipelined(sftp, path).catch((err: Error) => {
          throw new Error(`${connection.address.label}: cannot list ${path}: ${err.message}`);
        }),
      { readOnly: true },
    );
  }
  const via = options.method === 'auto' && findWorks.get(connection) ? 'find' : 'sftp';
  if (!entries) return { ...pairEntries(folder, path, []), missing: true, via };
  return { ...pairEntries(folder, path, entries), via };
}
