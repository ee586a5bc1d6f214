// Reading mail files over SFTP without fetching more than needed: the header block of a `.body`
// (a few KB, never the whole message), or a whole file up to a size limit for the read-only editor.
import type { SFTPWrapper } from 'ssh2';
import type { UnitConnection } from '../ssh/connection';
import { headerBlock, MessageSummary, readMessageSummary } from './headers';

/** First read of a `.body`; most header blocks fit. */
export const HEAD_BYTES = 8 * 1024;
/** Never read more than this looking for the end of the header block. */
export const MAX_HEAD_BYTES = 64 * 1024;
const CHUNK = 32 * 1024;

function open(sftp: SFTPWrapper, path: string): Promise<Buffer> {
  return new Promise((resolve, reject) => sftp.open(path, 'r', (err, handle) => (err ? reject(err) : resolve(handle))));
}
function close(sftp: SFTPWrapper, handle: Buffer): Promise<void> {
  return new Promise((resolve) => sftp.close(handle, () => resolve()));
}
/** One read; resolves with the bytes actually read (0 at end of file). */
function readAt(sftp: SFTPWrapper, handle: Buffer, into: Buffer, offset: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) =>
    sftp.read(handle, into, offset, length, position, (err, bytesRead) => {
      // ssh2 reports end of file as an error with code 1 (SSH_FX_EOF) on some servers.
      if (err) return (err as { code?: number }).code === 1 ? resolve(0) : reject(err);
      resolve(bytesRead);
    }),
  );
}

/** Why a read failed, naming the unit and the file. */
function fileError(connection: UnitConnection, path: string, err: unknown): Error {
  const code = (err as { code?: number }).code;
  if (code === 2) return Object.assign(new Error(`${connection.address.label}: ${path} is gone (the gateway may have delivered or moved it); refresh the tree.`), { code: 'ENOENT' });
  if (code === 3) return Object.assign(new Error(`${connection.address.label}: permission denied reading ${path}.`), { code: 'EACCES' });
  return err instanceof Error && err.message.startsWith(connection.address.label) ? err : new Error(`${connection.address.label}: cannot read ${path}: ${(err as Error).message}`);
}

/**
 * Reads from the start of a file until `enough` says so, the file ends, or `maxBytes` were read:
 * one open and as few reads as the server needs. Starts with a buffer of `firstBytes` and grows it
 * only while more is wanted.
 */
async function readFromStart(connection: UnitConnection, path: string, firstBytes: number, maxBytes: number, enough?: (read: Buffer) => boolean): Promise<Buffer> {
  try {
    return await connection.withSftp(async (sftp) => {
      const handle = await open(sftp, path);
      try {
        let buf = Buffer.alloc(Math.min(firstBytes, maxBytes));
        let have = 0;
        for (;;) {
          if (have === buf.length) {
            if (buf.length >= maxBytes || enough?.(buf)) break;
            const bigger = Buffer.alloc(Math.min(buf.length * 2, maxBytes));
            buf.copy(bigger, 0, 0, have);
            buf = bigger;
          }
          const n = await readAt(sftp, handle, buf, have, Math.min(CHUNK, buf.length - have), have);
          if (n === 0) break;
          have += n;
          if (enough?.(buf.subarray(0, have))) break;
        }
        return buf.subarray(0, have);
      } finally {
        // Not awaited: the server handles requests in order, so the close needs no round trip of
        // its own before the next read (many files are read in a row, 32 at a time).
        void close(sftp, handle);
      }
    }, { readOnly: true });
  } catch (err) {
    throw fileError(connection, path, err);
  }
}

/**
 * Reads from the start of a file until the header block ends (an empty line), the file ends, or
 * `maxBytes` were read. Starts with `firstBytes` and grows only for unusually long header blocks.
 */
export function readHead(connection: UnitConnection, path: string, firstBytes = HEAD_BYTES, maxBytes = MAX_HEAD_BYTES): Promise<Buffer> {
  return readFromStart(connection, path, firstBytes, maxBytes, (read) => headerBlock(read).complete);
}

/** The first `maxBytes` of a file (fewer if it is shorter). For files read whole but bounded, like a `.env`. */
export function readStart(connection: UnitConnection, path: string, maxBytes: number): Promise<Buffer> {
  return readFromStart(connection, path, maxBytes, maxBytes);
}

/** The summary (From, To, Subject, Date, Message-ID) of a `.body` on a unit. */
export async function readSummary(connection: UnitConnection, bodyPath: string): Promise<MessageSummary> {
  return readMessageSummary(await readHead(connection, bodyPath));
}

export class FileTooLargeError extends Error {
  readonly code = 'EFBIG';
  constructor(
    readonly path: string,
    readonly size: number,
    readonly limit: number,
  ) {
    super(`${path} is ${size} bytes, over the limit of ${limit} bytes`);
  }
}

/**
 * Reads a whole file, refusing (FileTooLargeError) if it is larger than `limit`; or, with
 * `headOnly`, its first `limit` bytes. Several reads are kept in flight: per-request round trips,
 * not bandwidth, bound SFTP reads.
 */
export async function readFileLimited(connection: UnitConnection, path: string, limit: number, headOnly = false): Promise<{ data: Buffer; size: number; truncated: boolean }> {
  try {
    return await connection.withSftp(async (sftp) => {
      // SFTP's open follows symlinks and has no O_NOFOLLOW: look at the name itself first, and
      // refuse anything but a regular file (a link to /etc/shadow stays unread).
      await regularFileOnly(sftp, connection, path);
      const handle = await open(sftp, path);
      try {
        const size = await new Promise<number>((resolve, reject) =>
          sftp.fstat(handle, (err, st) => (err ? reject(err) : (st.mode & 0o170000) !== 0o100000 ? reject(new NotRegularError(`${connection.address.label}: ${path} is not a regular file; refused.`)) : resolve(st.size))),
        );
        if (size > limit && !headOnly) throw new FileTooLargeError(path, size, limit);
        const want = Math.min(size, limit);
        const data = Buffer.alloc(want);
        const offsets: number[] = [];
        for (let o = 0; o < want; o += CHUNK) offsets.push(o);
        let next = 0;
        let shortRead = false;
        const worker = async () => {
          while (next < offsets.length) {
            const o = offsets[next++];
            const len = Math.min(CHUNK, want - o);
            let got = 0;
            while (got < len) {
              const n = await readAt(sftp, handle, data, o + got, len - got, o + got);
              if (n === 0) {
                shortRead = true; // the file shrank while we read it
                break;
              }
              got += n;
            }
          }
        };
        await Promise.all(Array.from({ length: Math.min(8, offsets.length) }, worker));
        if (shortRead) throw new Error(`${path} changed while it was read; refresh and open it again`);
        return { data, size, truncated: want < size };
      } finally {
        await close(sftp, handle);
      }
    }, { readOnly: true });
  } catch (err) {
    if (err instanceof FileTooLargeError || err instanceof NotRegularError) throw err;
    throw fileError(connection, path, err);
  }
}

/** A spool path that is a symlink, a FIFO, a directory, a device: never opened. */
export class NotRegularError extends Error {
  readonly code = 'ENOTFILE';
}

async function regularFileOnly(sftp: SFTPWrapper, connection: UnitConnection, path: string): Promise<void> {
  const mode = await new Promise<number>((resolve, reject) => sftp.lstat(path, (err, st) => (err ? reject(err) : resolve(st.mode))));
  const type = mode & 0o170000;
  if (type === 0o120000) throw new NotRegularError(`${connection.address.label}: ${path} is a symbolic link; it is not followed.`);
  if (type !== 0o100000) throw new NotRegularError(`${connection.address.label}: ${path} is not a regular file; refused.`);
}
