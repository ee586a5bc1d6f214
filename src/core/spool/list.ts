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

export async function listFolder(connection: UnitConnection, cluster: ClusterConfig, folder: SpoolFolder): Promise<FolderListing> {
  const path = gatewayDirs(cluster)[folder];
  const entries = await connection.withSftp((sftp) =>
    readdirPipelined(sftp, path).catch((err: Error) => {
      throw new Error(`${connection.address.label}: cannot list ${path}: ${err.message}`);
    }),
  );
  if (!entries) return { ...pairEntries(folder, path, []), missing: true };
  return pairEntries(folder, path, entries);
}
