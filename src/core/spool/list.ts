// Lists a gateway folder on a unit and pairs `<id>.env` + `<id>.body` into mails. One SFTP readdir
// (attributes come from lstat, so symlinks are seen as links and never followed).
import { ClusterConfig, gatewayDirs } from '../config';
import { isSafeMailId } from '../names';
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
    const m = /^(.*)\.(env|body)$/.exec(name);
    if (!m) {
      ignored.push({ name, reason: 'not-a-mail-file' });
      continue;
    }
    if (!isSafeMailId(m[1])) {
      ignored.push({ name, reason: 'unsafe-name' });
      continue;
    }
    if ((e.mode & S_IFMT) !== S_IFREG) {
      ignored.push({ name, reason: 'not-a-regular-file' });
      continue;
    }
    const file: MailFile = { name, size: e.size, mtimeMs: e.mtime * 1000 };
    const slot = byId.get(m[1]) ?? {};
    if (m[2] === 'env') slot.env = file;
    else slot.body = file;
    byId.set(m[1], slot);
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

export async function listFolder(connection: UnitConnection, cluster: ClusterConfig, folder: SpoolFolder): Promise<FolderListing> {
  const path = gatewayDirs(cluster)[folder];
  const entries = await connection.withSftp(
    (sftp) =>
      new Promise<RawDirEntry[] | undefined>((resolve, reject) => {
        sftp.readdir(path, (err, list) => {
          if (err) {
            if ((err as { code?: number }).code === 2) return resolve(undefined); // SSH_FX_NO_SUCH_FILE
            return reject(new Error(`${connection.address.label}: cannot list ${path}: ${err.message}`));
          }
          resolve(list.map((e) => ({ filename: e.filename, mode: e.attrs.mode, size: e.attrs.size, mtime: e.attrs.mtime })));
        });
      }),
  );
  if (!entries) return { ...pairEntries(folder, path, []), missing: true };
  return pairEntries(folder, path, entries);
}
