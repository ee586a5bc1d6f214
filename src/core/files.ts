// Reading a local file that a setting names (key files, known_hosts, ssh config, the CLI's settings
// file): only a regular file, only up to a size cap. The file is opened without blocking (a FIFO
// does not hang the open) and checked on the open descriptor (no race with a rename), so /dev/zero,
// a FIFO or a directory is refused with an error naming the setting instead of growing the process
// until it dies.
import * as fs from 'fs';

/** Key files and known_hosts files are a few KB; 1 MiB is far above any real one. */
export const SETTING_FILE_MAX_BYTES = 1 << 20;

export class SettingFileError extends Error {
  constructor(
    message: string,
    /** 'ENOENT' when the file does not exist (callers may treat that as "no entries"). */
    readonly code: string,
  ) {
    super(message);
    this.name = 'SettingFileError';
  }
}

function kindOf(st: fs.Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Reads `file` if it is a regular file of at most `maxBytes`. `what` names the setting in the
 * error, e.g. `mailgwHa.knownHostsFile` or `identityFile of unit "lab/fw-a"`.
 */
export function readSettingFile(file: string, what: string, maxBytes = SETTING_FILE_MAX_BYTES): Buffer {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
    throw new SettingFileError(`${what}: cannot open ${file} (${code}).`, code);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new SettingFileError(`${what}: ${file} is ${kindOf(st)}, not a regular file. Point the setting at the file itself.`, 'ENOTFILE');
    if (st.size > maxBytes) throw new SettingFileError(`${what}: ${file} is ${st.size.toLocaleString('en-US')} bytes, more than the ${maxBytes.toLocaleString('en-US')} a file of this kind can hold. Check that the setting names the right file.`, 'EFBIG');
    // Read at most maxBytes + 1 even if the file grew since the fstat.
    const buf = Buffer.alloc(Math.min(st.size, maxBytes) + 1);
    let have = 0;
    for (;;) {
      const n = fs.readSync(fd, buf, have, buf.length - have, have);
      if (n === 0) break;
      have += n;
      if (have === buf.length) break;
    }
    if (have > maxBytes) throw new SettingFileError(`${what}: ${file} grew beyond ${maxBytes.toLocaleString('en-US')} bytes while it was read.`, 'EFBIG');
    return buf.subarray(0, have);
  } finally {
    fs.closeSync(fd);
  }
}
