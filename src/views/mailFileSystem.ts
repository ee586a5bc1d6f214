// Read-only editors for spool files: `mailgw-ha:/<cluster>/<unit>/<folder>/<id>.<body|env>`.
// Files over the size limit (mailgwHa.maxOpenSizeMB) are refused with a message saying so; the
// query `?head=N` opens only their first N bytes. Nothing here can write, rename or delete.
import * as vscode from 'vscode';
import { maxOpenBytes } from '../settings';
import { gatewayDirs } from '../core/config';
import { FileTooLargeError, NotRegularError, readFileLimited } from '../core/message/read';
import { messageText } from '../core/text/message';
import { SPOOL_FOLDERS, SpoolFolder } from '../core/spool/list';
import { isSafeMailId } from '../core/names';
import type { Services } from '../services';
import { unitKey } from '../core/keys';

export const MAIL_SCHEME = 'mailgw-ha';
/** How much "Open Head Only" shows of a file that is too large. */
export const HEAD_ONLY_BYTES = 256 * 1024;

export interface MailFileRef {
  readonly cluster: string;
  readonly unit: string;
  readonly folder: SpoolFolder;
  readonly id: string;
  readonly part: 'body' | 'env';
  /** Only the first N bytes. */
  readonly head?: number;
}

export function mailUri(ref: MailFileRef): vscode.Uri {
  return vscode.Uri.from({
    scheme: MAIL_SCHEME,
    path: `/${encodeURIComponent(ref.cluster)}/${encodeURIComponent(ref.unit)}/${ref.folder}/${ref.id}.${ref.part}`,
    query: ref.head ? `head=${ref.head}` : undefined,
  });
}

/** Parses and validates a mail URI; undefined if it is not one we made. */
export function parseMailUri(uri: vscode.Uri): MailFileRef | undefined {
  if (uri.scheme !== MAIL_SCHEME) return undefined;
  const parts = uri.path.split('/');
  if (parts.length !== 5 || parts[0] !== '') return undefined;
  const [, cluster, unit, folder, file] = parts;
  const m = /^(.*)\.(body|env)$/.exec(file);
  if (!m || !isSafeMailId(m[1]) || !(SPOOL_FOLDERS as readonly string[]).includes(folder)) return undefined;
  const head = /^head=(\d{1,10})$/.exec(uri.query)?.[1];
  return { cluster: decodeURIComponent(cluster), unit: decodeURIComponent(unit), folder: folder as SpoolFolder, id: m[1], part: m[2] as 'body' | 'env', head: head ? Number(head) : undefined };
}

export class MailFileSystemProvider implements vscode.FileSystemProvider {
  private readonly emitter = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.emitter.event;

  constructor(private readonly services: Services) {}

  private resolve(uri: vscode.Uri) {
    const ref = parseMailUri(uri);
    if (!ref) throw vscode.FileSystemError.FileNotFound(uri);
    const found = this.services.unit(unitKey(ref.cluster, ref.unit));
    if (!found) throw vscode.FileSystemError.Unavailable(messageText(`No unit "${unitKey(ref.cluster, ref.unit)}" in the mailgwHa.clusters settings.`));
    const path = `${gatewayDirs(found.cluster)[ref.folder]}/${ref.id}.${ref.part}`;
    return { ref, ...found, path, connection: this.services.pool.get(found.unit) };
  }

  async stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    const { ref, connection, path, unit } = this.resolve(uri);
    const st = await connection
      // lstat: the name itself, never what a symlink points to.
      .withSftp((sftp) => new Promise<{ size: number; mtime: number; mode: number }>((resolve, reject) => sftp.lstat(path, (err, s) => (err ? reject(err) : resolve({ size: s.size, mtime: s.mtime * 1000, mode: s.mode })))))
      .catch((err: { code?: number; message: string }) => {
        if (err.code === 2) throw vscode.FileSystemError.FileNotFound(messageText(`${unit.key}: ${path} is gone (delivered or moved by the gateway?).`));
        throw vscode.FileSystemError.Unavailable(messageText(`${unit.key}: cannot stat ${path}: ${err.message}`));
      });
    if ((st.mode & 0o170000) !== 0o100000) throw vscode.FileSystemError.NoPermissions(messageText(`${unit.key}: ${path} is ${(st.mode & 0o170000) === 0o120000 ? 'a symbolic link' : 'not a regular file'}; it is not opened.`));
    const size = ref.head ? Math.min(ref.head, st.size) : st.size;
    return { type: vscode.FileType.File, ctime: st.mtime, mtime: st.mtime, size, permissions: vscode.FilePermission.Readonly };
  }

  async readFile(uri: vscode.Uri): Promise<Uint8Array> {
    const { ref, connection, path, unit } = this.resolve(uri);
    const limit = ref.head ?? maxOpenBytes();
    try {
      const { data, size, truncated } = await readFileLimited(connection, path, limit, !!ref.head);
      this.services.logger.debug(`${unit.key}: opened ${path} (${data.length} of ${size} bytes)`);
      return truncated ? Buffer.concat([data, Buffer.from(`\n\n[mailgw-ha: only the first ${data.length.toLocaleString('en-US')} of ${size.toLocaleString('en-US')} bytes are shown]\n`)]) : data;
    } catch (err) {
      if (err instanceof FileTooLargeError) {
        throw vscode.FileSystemError.Unavailable(`${unit.key}: ${path} is ${(err.size / 1024 / 1024).toFixed(1)} MB, over the ${(err.limit / 1024 / 1024).toFixed(1)} MB limit (setting mailgwHa.maxOpenSizeMB). Use "Open Head Only" from the mail's context menu, or raise the limit.`);
      }
      if ((err as { code?: string }).code === 'ENOENT') throw vscode.FileSystemError.FileNotFound(messageText((err as Error).message));
      if (err instanceof NotRegularError) throw vscode.FileSystemError.NoPermissions(messageText(err.message));
      throw vscode.FileSystemError.Unavailable(messageText((err as Error).message));
    }
  }

  watch(): vscode.Disposable {
    return new vscode.Disposable(() => undefined);
  }
  readDirectory(): [string, vscode.FileType][] {
    return [];
  }
  createDirectory(uri: vscode.Uri): void {
    throw vscode.FileSystemError.NoPermissions(uri);
  }
  writeFile(uri: vscode.Uri): void {
    throw vscode.FileSystemError.NoPermissions(uri);
  }
  delete(uri: vscode.Uri): void {
    throw vscode.FileSystemError.NoPermissions(uri);
  }
  rename(uri: vscode.Uri): void {
    throw vscode.FileSystemError.NoPermissions(uri);
  }
}

export function registerMailFileSystem(services: Services): vscode.Disposable {
  return vscode.workspace.registerFileSystemProvider(MAIL_SCHEME, new MailFileSystemProvider(services), { isCaseSensitive: true, isReadonly: true });
}
