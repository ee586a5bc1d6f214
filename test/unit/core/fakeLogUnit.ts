// An in-memory stand-in for a unit that answers the log follower's script (FOLLOW_SCRIPT) exactly
// as the real one does: below the SSH layer's interface, for the follower's and the views' own
// bookkeeping. The real script is checked against the lab in test/integration/logFollow.test.ts.
import * as assert from 'assert';
import { FOLLOW_SCRIPT, LogConnection } from '../../../src/core/log/follow';
import type { ExecOptions, ExecResult } from '../../../src/core/ssh/connection';
import { SshError } from '../../../src/core/ssh/errors';

export class FakeLogUnit implements LogConnection {
  readonly address = { label: 'lab/fake' };
  /** path → file; an inode is kept while a file is renamed. */
  files = new Map<string, { ino: number; data: Buffer }>();
  private nextIno = 100;
  failNext = 0;
  calls = 0;

  write(path: string, text: string): void {
    const f = this.files.get(path);
    if (f) f.data = Buffer.concat([f.data, Buffer.from(text)]);
    else this.files.set(path, { ino: this.nextIno++, data: Buffer.from(text) });
  }
  rename(from: string, to: string): void {
    this.files.set(to, this.files.get(from)!);
    this.files.delete(from);
  }
  truncate(path: string): void {
    this.files.get(path)!.data = Buffer.alloc(0);
  }
  /** Deletes the file and creates it anew with the same inode number (as a file system may reuse it). */
  recreateWithSameInode(path: string, text = ''): void {
    this.files.set(path, { ino: this.files.get(path)!.ino, data: Buffer.from(text) });
  }

  async exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult> {
    this.calls++;
    assert.strictEqual(argv[2], FOLLOW_SCRIPT);
    if (this.failNext > 0) {
      this.failNext--;
      throw new SshError('lost', 'lab/fake: the connection dropped');
    }
    const [file, ino, offStr, maxStr] = argv.slice(4);
    const off = Number(offStr);
    const max = Number(maxStr);
    const out = (head: string, data?: Buffer): ExecResult => ({ code: 0, stdout: Buffer.concat([Buffer.from(head + '\n'), data ?? Buffer.alloc(0)]), stderr: '' });
    const cur = this.files.get(file);
    if (ino === '-') return cur ? out(`S ${cur.ino} ${cur.data.length}`) : out('M');
    const byIno = [...this.files.entries()].find(([, f]) => String(f.ino) === ino);
    for (let tick = 0; tick < 3; tick++) {
      if (options?.cancellation?.isCancellationRequested) throw new SshError('closed', 'cancelled');
      if (cur && String(cur.ino) !== ino) {
        if (byIno && byIno[1].data.length > off) return out(`D ${ino} ${off} ${byIno[0]}`, byIno[1].data.subarray(off, off + max));
        return out(`R ${cur.ino} ${cur.data.length} ${byIno ? byIno[0] : '-'}`);
      }
      if (cur && cur.data.length < off) return out(`T ${cur.ino} ${cur.data.length}`);
      if (cur && cur.data.length > off) return out(`D ${ino} ${off}`, cur.data.subarray(off, off + max));
      await new Promise((r) => setTimeout(r, 5));
    }
    return out(`I ${ino} ${off}`);
  }
}

export async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
