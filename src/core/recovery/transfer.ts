// Copying mails from the secondary into a staging folder inside the primary's input/ (a dot-folder
// the gateway ignores), then verifying size and SHA-256 on both units. Fast path: one `tar` stream
// relayed through this machine (per-file SFTP round trips dominate small-file copies); fallback:
// SFTP streams, many files in flight, hashing the streamed bytes. Direct: the secondary's own `ssh`
// sends the tar stream straight to the primary (direct.ts), so mail bytes never cross this machine.
import * as crypto from 'crypto';
import type { ClientChannel } from 'ssh2';
import type { Cancellation } from '../host';
import type { UnitConnection } from '../ssh/connection';
import { DirectRoute, DirectUnreachable, KeyLease, sendDirect } from './direct';
import { KeyNotAuthorized } from './transferKey';
import { hashFiles, RecoveryError, TAR_CREATE_NAMED, Tools } from './remote';

/** TAR_CREATE_NAMED in folder $1. */
export const TAR_NAMED_FILES = `cd -- "$1" || exit 3
${TAR_CREATE_NAMED}`;

export interface CopyItem {
  readonly id: string;
  readonly srcDir: string;
  readonly bodySize: number;
  readonly envSize: number;
}

export interface CopyResult {
  /** Verified copies with the SHA-256 of both files. */
  readonly verified: Map<string, { body: string; env: string }>;
  /** Mails whose copy failed or did not verify, with why. */
  readonly failed: Map<string, string>;
  readonly method: 'tar' | 'sftp' | 'direct';
}

export interface CopyOptions {
  readonly cancellation?: Cancellation;
  /** Called once bytes are flowing (fault tests cut the connection here). */
  readonly onFlowing?: () => void;
  readonly onProgress?: (doneMails: number) => void;
  readonly sftpInFlight?: number;
  /** Send straight from the secondary to the primary (tar on both, `ssh` on the secondary), with the run's transfer keys. */
  readonly direct?: { readonly route: DirectRoute; readonly keys: KeyLease };
}

export async function makeStage(primary: UnitConnection, stageDir: string): Promise<void> {
  const r = await primary.exec(['mkdir', '-m', '700', '--', stageDir], { timeoutMs: 30_000 });
  if (r.code !== 0) throw new RecoveryError(`${primary.address.label}: cannot create the staging folder ${stageDir} (exit ${r.code}): ${r.stderr.trim()}. Is input/ writable and not full?`);
}

export function canUseTar(src: Tools, dst: Tools): boolean {
  return src.tar && dst.tar && src.sha256sum && dst.sha256sum && src.xargs && dst.xargs;
}

export async function copyMails(source: UnitConnection, primary: UnitConnection, stageDir: string, items: readonly CopyItem[], useTar: boolean, opts: CopyOptions = {}): Promise<CopyResult> {
  if (items.length === 0) return { verified: new Map(), failed: new Map(), method: opts.direct ? 'direct' : useTar ? 'tar' : 'sftp' };
  return useTar || opts.direct ? copyByTar(source, primary, stageDir, items, opts) : copyBySftp(source, primary, stageDir, items, opts);
}

// ---- tar relay ----------------------------------------------------------------------------------

async function copyByTar(source: UnitConnection, primary: UnitConnection, stageDir: string, items: readonly CopyItem[], opts: CopyOptions): Promise<CopyResult> {
  const bySrc = new Map<string, CopyItem[]>();
  for (const it of items) bySrc.set(it.srcDir, [...(bySrc.get(it.srcDir) ?? []), it]);
  // The source's hashes are computed while the stream runs (both only read the originals).
  const srcHashing = Promise.all([...bySrc].map(([dir, g]) => hashFiles(source, dir, g.flatMap((i) => [`${i.id}.body`, `${i.id}.env`]))));
  srcHashing.catch(() => undefined);
  let done = 0;
  const send = async (stream: (srcDir: string, names: string[]) => Promise<void>) => {
    for (const [srcDir, group] of bySrc) {
      await stream(srcDir, group.flatMap((i) => [`${i.id}.body`, `${i.id}.env`]));
      done += group.length;
      opts.onProgress?.(done);
    }
  };
  const relay = (srcDir: string, names: string[]) => relayTar(source, primary, srcDir, stageDir, names, opts);
  const direct = opts.direct;
  // auto: what cannot go unit to unit (the key refused, an empty archive not getting through, so
  // nothing of it was sent) is relayed, this batch and every later one.
  const unitToUnit = async (route: DirectRoute, keys: KeyLease, srcDir: string, names: string[]) => {
    const auto = route.auto;
    if (auto?.relayed) return relay(srcDir, names);
    try {
      await sendDirect(source, route, await keys.get(), srcDir, stageDir, names, { ...opts, probe: auto !== undefined && !auto.reached });
      if (auto) auto.reached = true;
    } catch (e) {
      const unreached = e instanceof DirectUnreachable || e instanceof KeyNotAuthorized;
      if (!auto || auto.reached || !unreached) throw e;
      auto.relayed = (e as Error).message;
      auto.onRelay(auto.relayed);
      return relay(srcDir, names);
    }
  };
  const streams = send(direct ? (srcDir, names) => unitToUnit(direct.route, direct.keys, srcDir, names) : relay);
  // The copies' hashing is started with the streams and hashes once they have ended.
  const dstHashing = hashFiles(primary, stageDir, items.flatMap((i) => [`${i.id}.body`, `${i.id}.env`]), { after: streams });
  dstHashing.catch(() => undefined); // the streams' error is the one reported
  await streams;
  const srcHashes = new Map((await srcHashing).flatMap((m) => [...m]));
  return verify(source, primary, items, opts.direct ? 'direct' : 'tar', srcHashes, await dstHashing);
}

function relayTar(source: UnitConnection, primary: UnitConnection, srcDir: string, stageDir: string, names: readonly string[], opts: CopyOptions): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    let src: ClientChannel | undefined;
    let dst: ClientChannel | undefined;
    let cancelPoll: NodeJS.Timeout | undefined;
    const fail = (e: Error) => {
      if (settled) return;
      settled = true;
      if (cancelPoll) clearInterval(cancelPoll);
      src?.close();
      dst?.close();
      reject(e);
    };
    const codes: { src?: number | null; dst?: number | null } = {};
    const errs = { src: '', dst: '' };
    const finish = () => {
      if (settled || !('src' in codes) || !('dst' in codes)) return;
      settled = true;
      if (cancelPoll) clearInterval(cancelPoll);
      if (codes.src !== 0) return reject(new RecoveryError(`${source.address.label}: tar of ${srcDir} failed (exit ${codes.src}): ${errs.src.trim().slice(0, 300)}`));
      if (codes.dst !== 0) return reject(new RecoveryError(`${primary.address.label}: unpacking into ${stageDir} failed (exit ${codes.dst}): ${errs.dst.trim().slice(0, 300)}. Is input/ full or not writable?`));
      resolve();
    };
    if (opts.cancellation) {
      cancelPoll = setInterval(() => {
        if (opts.cancellation?.isCancellationRequested) fail(new RecoveryError('cancelled'));
      }, 100);
    }
    Promise.allSettled([
      // The staging folder is new and ours; tar writes only below it (GNU tar refuses ".." members).
      primary.stream(['tar', '-xf', '-', '-C', stageDir], (e) => fail(e)),
      source.stream(['sh', '-c', TAR_NAMED_FILES, 'sh', srcDir], (e) => fail(e)),
    ]).then(([dr, sr]) => {
      if (dr.status === 'rejected' || sr.status === 'rejected') {
        if (dr.status === 'fulfilled') dr.value.close();
        if (sr.status === 'fulfilled') sr.value.close();
        return fail((dr.status === 'rejected' ? dr.reason : (sr as PromiseRejectedResult).reason) as Error);
      }
      const d = dr.value;
      const s = sr.value;
      dst = d;
      src = s;
      if (settled) {
        d.close();
        s.close();
        return;
      }
      let flowing = false;
      s.on('data', (chunk: Buffer) => {
        if (!flowing) {
          flowing = true;
          opts.onFlowing?.();
        }
        if (!d.write(chunk)) {
          s.pause();
          d.once('drain', () => s.resume());
        }
      });
      s.on('end', () => d.end());
      s.stderr.on('data', (b: Buffer) => (errs.src += b.toString()));
      d.stderr.on('data', (b: Buffer) => (errs.dst += b.toString()));
      d.on('data', () => undefined);
      s.on('exit', (c: number | null) => {
        codes.src = c;
      });
      d.on('exit', (c: number | null) => {
        codes.dst = c;
      });
      s.on('close', () => {
        if (!('src' in codes)) codes.src = null;
        finish();
      });
      d.on('close', () => {
        if (!('dst' in codes)) codes.dst = null;
        finish();
      });
      s.end(names.map((n) => `${n}\n`).join(''));
    });
  });
}

/** Each copy's SHA-256 on the primary against its original's on the source. */
function verify(source: UnitConnection, primary: UnitConnection, items: readonly CopyItem[], method: CopyResult['method'], srcHashes: Map<string, string>, dstHashes: Map<string, string>): CopyResult {
  const verified = new Map<string, { body: string; env: string }>();
  const failed = new Map<string, string>();
  for (const it of items) {
    const sb = srcHashes.get(`${it.id}.body`);
    const se = srcHashes.get(`${it.id}.env`);
    const db = dstHashes.get(`${it.id}.body`);
    const de = dstHashes.get(`${it.id}.env`);
    if (!sb || !se) failed.set(it.id, `the mail is no longer complete on ${source.address.label}`);
    else if (!db || !de) failed.set(it.id, `the copy on ${primary.address.label} is missing a file`);
    else if (sb !== db || se !== de) failed.set(it.id, `SHA-256 of the copy on ${primary.address.label} differs from the original`);
    else verified.set(it.id, { body: sb, env: se });
  }
  return { verified, failed, method };
}

// ---- SFTP fallback ------------------------------------------------------------------------------

async function copyBySftp(source: UnitConnection, primary: UnitConnection, stageDir: string, items: readonly CopyItem[], opts: CopyOptions): Promise<CopyResult> {
  const [ssftp, psftp] = await Promise.all([source.sftp(), primary.sftp()]);
  const streamed = new Map<string, string>();
  const failed = new Map<string, string>();
  const files = items.flatMap((i) => [
    { id: i.id, name: `${i.id}.body`, src: `${i.srcDir}/${i.id}.body`, size: i.bodySize },
    { id: i.id, name: `${i.id}.env`, src: `${i.srcDir}/${i.id}.env`, size: i.envSize },
  ]);
  let next = 0;
  let flowing = false;
  const copyOne = (f: (typeof files)[number]) =>
    new Promise<void>((resolve, reject) => {
      const hash = crypto.createHash('sha256');
      let bytes = 0;
      const rs = ssftp.createReadStream(f.src);
      // 'wx': O_EXCL, never replaces a file that is already there.
      const ws = psftp.createWriteStream(`${stageDir}/${f.name}`, { flags: 'wx', mode: 0o600 });
      rs.on('data', (c: Buffer) => {
        if (!flowing) {
          flowing = true;
          opts.onFlowing?.();
        }
        hash.update(c);
        bytes += c.length;
      });
      rs.on('error', reject);
      ws.on('error', reject);
      ws.on('close', () => {
        streamed.set(f.name, hash.digest('hex'));
        resolve();
      });
      rs.pipe(ws);
      void bytes;
    });
  const worker = async () => {
    while (next < files.length) {
      if (opts.cancellation?.isCancellationRequested) throw new RecoveryError('cancelled');
      const f = files[next++];
      try {
        await copyOne(f);
      } catch (e) {
        failed.set(f.id, `copy of ${f.name} failed: ${(e as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: opts.sftpInFlight ?? 16 }, worker));
  const ok = items.filter((i) => !failed.has(i.id));
  const r = await verifyStreamed(primary, stageDir, ok, streamed);
  for (const [id, why] of failed) r.failed.set(id, why);
  return r;
}

/** Without sha256sum on the primary, the sizes there are checked and the streamed bytes' hash kept. */
async function verifyStreamed(primary: UnitConnection, stageDir: string, items: readonly CopyItem[], streamed: Map<string, string>): Promise<CopyResult> {
  const verified = new Map<string, { body: string; env: string }>();
  const failed = new Map<string, string>();
  const sftp = await primary.sftp();
  const stat = (p: string) => new Promise<number | undefined>((resolve) => sftp.lstat(p, (err, st) => resolve(err ? undefined : st.size)));
  for (const it of items) {
    const [b, e] = await Promise.all([stat(`${stageDir}/${it.id}.body`), stat(`${stageDir}/${it.id}.env`)]);
    const sb = streamed.get(`${it.id}.body`);
    const se = streamed.get(`${it.id}.env`);
    if (b !== it.bodySize || e !== it.envSize || !sb || !se) failed.set(it.id, `size of the copy on ${primary.address.label} differs from the original`);
    else verified.set(it.id, { body: sb, env: se });
  }
  return { verified, failed, method: 'sftp' };
}

/** Cuts the mails into batches of at most `count` mails and about `bytes` bytes, in order. */
export function copyBatches<T extends { bodySize: number; envSize: number }>(records: readonly T[], count: number, bytes: number): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let size = 0;
  for (const m of records) {
    const b = m.bodySize + m.envSize;
    if (cur.length && (cur.length >= count || size + b > bytes)) {
      out.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(m);
    size += b;
  }
  if (cur.length) out.push(cur);
  return out;
}
