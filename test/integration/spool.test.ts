// The spool explorer's core against the lab's real sshd: listing and pairing, header summaries read
// over SFTP, active-unit detection across takeover/takeback, leftovers, size-limited reads, and the
// CLI's `ls` and `status` built on the same core.
import * as assert from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ClusterConfig, parseSettings } from '../../src/core/config';
import { MemorySecretStore, noPrompts, silentLogger } from '../../src/core/host';
import { FileTooLargeError, readFileLimited, readHead } from '../../src/core/message/read';
import { listFolder } from '../../src/core/spool/list';
import { leftoverCount, loadUnitOverview } from '../../src/core/spool/overview';
import { SummaryCache } from '../../src/core/spool/summaries';
import { ConnectionPool } from '../../src/core/ssh/pool';
import { REPO_ROOT } from '../lab/lab';
import { lab } from './hooks';

function clusterOf(): ClusterConfig {
  const s = lab().settings();
  const parsed = parseSettings(s['mailgwHa.clusters'], s['mailgwHa.knownHostsFile'], '/root');
  assert.deepStrictEqual(parsed.errors, []);
  return parsed.clusters[0];
}

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src', 'cli.ts'), ...args, '--settings', lab().settingsPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d));
    p.stderr.on('data', (d: Buffer) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('spool explorer core (lab)', function () {
  let pool: ConnectionPool;
  let cluster: ClusterConfig;
  beforeEach(async () => {
    await lab().reset();
    cluster = clusterOf();
    pool = new ConnectionPool({ prompts: noPrompts, secrets: new MemorySecretStore(), logger: silentLogger, knownHostsFiles: [lab().knownHostsPath] });
  });
  afterEach(() => pool.dispose());

  it('lists and pairs the stranded mail: complete pairs, orphans flagged, temp files ignored', async () => {
    lab().pauseDelivery('primary');
    const m = lab().strand({ mails: 12, vscan: 3, orphans: 3, duplicates: 2 });
    fs.writeFileSync(path.join(lab().hostPath('secondary', 'spool'), '.12345-tmp.body'), 'partial');
    const conn = pool.get(cluster.secondary);
    const spool = await listFolder(conn, cluster, 'spool');
    assert.strictEqual(spool.completeCount, 12);
    assert.strictEqual(spool.incompleteCount, 3);
    assert.deepStrictEqual(spool.mails.filter((x) => x.complete).map((x) => x.id).sort(), [...m.secondarySpool].sort());
    const orphanIds = new Set(m.orphans.map((f) => f.replace(/\.(env|body)$/, '')));
    for (const x of spool.mails.filter((y) => !y.complete)) {
      assert.ok(orphanIds.has(x.id), x.id);
      assert.ok(m.orphans.includes(x.body ? x.body.name : x.env!.name));
    }
    assert.deepStrictEqual(spool.ignored, [{ name: '.12345-tmp.body', reason: 'temporary' }]);
    assert.ok(spool.mails.every((x, i) => i === 0 || spool.mails[i - 1].mtimeMs <= x.mtimeMs), 'oldest first');
    const vscan = await listFolder(conn, cluster, 'vscan');
    assert.deepStrictEqual(vscan.mails.map((x) => x.id).sort(), [...m.secondaryVscan].sort());
    const primarySpool = await listFolder(pool.get(cluster.primary), cluster, 'spool');
    assert.deepStrictEqual(primarySpool.mails.map((x) => x.id).sort(), [...m.duplicates].sort());
  });

  it('lists a folder of 4,000 files completely (READDIR pipelined past many batches)', async () => {
    const dir = lab().hostPath('secondary', 'vscan');
    for (let n = 0; n < 2000; n++) {
      const id = `30000-00000-${String(n).padStart(5, '0')}`;
      fs.writeFileSync(path.join(dir, `${id}.body`), `Subject: ${n}\r\n\r\n`);
      if (n !== 77) fs.writeFileSync(path.join(dir, `${id}.env`), 'env');
    }
    const l = await listFolder(pool.get(cluster.secondary), cluster, 'vscan');
    assert.deepStrictEqual([l.completeCount, l.incompleteCount, l.mails.length, new Set(l.mails.map((m) => m.id)).size], [1999, 1, 2000, 2000]);
    assert.strictEqual(l.mails.find((m) => !m.complete)?.id, '30000-00000-00077');
  });

  it('the find-based listing (method auto) gives exactly what SFTP gives: symlinks, odd names, missing folder', async () => {
    lab().strand({ mails: 5, orphans: 2 });
    const dir = lab().hostPath('secondary', 'spool');
    fs.symlinkSync('/etc/passwd', path.join(dir, '40000-00000-00001.body'));
    fs.writeFileSync(path.join(dir, '40000-00000-00001.env'), 'env');
    fs.writeFileSync(path.join(dir, 'odd name\nwith newline.body'), 'x');
    fs.writeFileSync(path.join(dir, '.hidden.env'), 'x');
    fs.mkdirSync(path.join(dir, 'sub.body'));
    const conn = pool.get(cluster.secondary);
    const viaSftp = await listFolder(conn, cluster, 'spool', { method: 'sftp' });
    const viaFind = await listFolder(conn, cluster, 'spool', { method: 'auto' });
    // GNU find: the fast path; BusyBox's find has no -printf: the listing falls back to SFTP.
    assert.deepStrictEqual([viaSftp.via, viaFind.via], ['sftp', lab().profile.busybox ? 'sftp' : 'find'], lab().profile.busybox ? 'BusyBox find: the SFTP fallback ran' : 'the lab has GNU find: the fast path ran');
    const norm = (l: typeof viaSftp) => ({ ...l, via: undefined, ignored: [...l.ignored].sort((a, b) => a.name.localeCompare(b.name)) });
    assert.deepStrictEqual(norm(viaFind), norm(viaSftp));
    assert.deepStrictEqual(viaFind.ignored.map((i) => `${i.name}:${i.reason}`).sort(), ['.hidden.env:temporary', '40000-00000-00001.body:not-a-regular-file', 'odd name\nwith newline.body:unsafe-name', 'sub.body:not-a-regular-file']);
    assert.strictEqual(viaFind.mails.find((m) => m.id === '40000-00000-00001')?.complete, false, 'a symlinked half is not a mail half');
    const other = { ...cluster, spoolRoot: '/var/phion/spool/nowhere' };
    assert.strictEqual((await listFolder(conn, other, 'spool', { method: 'auto' })).missing, true);
    assert.strictEqual((await listFolder(conn, other, 'spool', { method: 'sftp' })).missing, true);
  });

  it('reads From/Subject/Message-ID of every stranded mail from the first KBs of its .body, cached by id+mtime+size', async () => {
    const m = lab().strand({ mails: 15, bigMb: 3 });
    const conn = pool.get(cluster.secondary);
    const listing = await listFolder(conn, cluster, 'spool');
    const cache = new SummaryCache();
    const first = await cache.load(conn, cluster, 'lab/fw-b', listing.mails);
    assert.deepStrictEqual([first.loaded, first.failed], [16, []]);
    for (const mail of listing.mails) {
      const s = cache.get('lab/fw-b', mail)!;
      assert.strictEqual(s.messageId, m.messageIds[mail.id], mail.id);
      assert.match(s.from ?? '', /@lab\.example>$/);
      assert.ok(s.subject && !s.subject.includes('=?'), s.subject);
    }
    // The 3 MB mail: only its head was read.
    const head = await readHead(conn, `${listing.path}/${m.big}.body`);
    assert.ok(head.length <= 64 * 1024, `read ${head.length} bytes`);
    // Cached: nothing is read again ...
    assert.strictEqual((await cache.load(conn, cluster, 'lab/fw-b', listing.mails)).loaded, 0);
    // ... until a mail changes (new mtime/size): then that one is read again.
    const target = listing.mails[0];
    const file = path.join(lab().hostPath('secondary', 'spool'), target.body!.name);
    fs.appendFileSync(file, 'x');
    const again = await listFolder(conn, cluster, 'spool');
    assert.strictEqual((await cache.load(conn, cluster, 'lab/fw-b', again.mails)).loaded, 1);
  });

  it('a mail delivered between listing and header read is reported, not fatal', async () => {
    lab().strand({ mails: 4 });
    const conn = pool.get(cluster.secondary);
    const listing = await listFolder(conn, cluster, 'spool');
    fs.rmSync(path.join(lab().hostPath('secondary', 'spool'), listing.mails[1].body!.name));
    const r = await new SummaryCache().load(conn, cluster, 'lab/fw-b', listing.mails);
    assert.strictEqual(r.loaded, 3);
    assert.strictEqual(r.failed.length, 1);
    assert.match(r.failed[0].error, /lab\/fw-b: .* is gone/);
  });

  it('detects the active unit by the gateway process, and follows takeover and takeback', async () => {
    const a = pool.get(cluster.primary);
    const b = pool.get(cluster.secondary);
    const active = async () => [(await loadUnitOverview(a, cluster)).active, (await loadUnitOverview(b, cluster)).active];
    assert.deepStrictEqual(await active(), [true, false]);
    await lab().takeover();
    assert.deepStrictEqual(await active(), [false, true]);
    await lab().takeback();
    assert.deepStrictEqual(await active(), [true, false]);
    const o = await loadUnitOverview(a, cluster);
    assert.deepStrictEqual(o.gateway.pids, [lab().status().find((u) => u.name === 'fw-a')!.gateway!.unitPid]);
  });

  it('counts leftovers only on a standby secondary', async () => {
    lab().strand({ mails: 5, vscan: 2, orphans: 1 });
    const b = pool.get(cluster.secondary);
    assert.strictEqual(leftoverCount(cluster.secondary, await loadUnitOverview(b, cluster)), 8);
    assert.strictEqual(leftoverCount(cluster.primary, await loadUnitOverview(pool.get(cluster.primary), cluster)), 0);
    await lab().takeover();
    assert.strictEqual(leftoverCount(cluster.secondary, await loadUnitOverview(b, cluster)), 0, 'an active secondary holds its own queue, not leftovers');
  });

  it('reads a whole file up to the size limit, refuses a larger one, and reads its head on request', async () => {
    const m = lab().strand({ mails: 1, bigMb: 2 });
    const conn = pool.get(cluster.secondary);
    const dir = (await listFolder(conn, cluster, 'spool')).path;
    const local = fs.readFileSync(path.join(lab().hostPath('secondary', 'spool'), `${m.big}.body`));
    const whole = await readFileLimited(conn, `${dir}/${m.big}.body`, 4 * 1024 * 1024);
    assert.ok(whole.data.equals(local), 'the whole file, byte for byte');
    await assert.rejects(readFileLimited(conn, `${dir}/${m.big}.body`, 1024 * 1024), (e: unknown) => e instanceof FileTooLargeError && e.size === local.length);
    const head = await readFileLimited(conn, `${dir}/${m.big}.body`, 100_000, true);
    assert.ok(head.truncated);
    assert.ok(head.data.equals(local.subarray(0, 100_000)));
    await assert.rejects(readFileLimited(conn, `${dir}/99999-99999-99999.body`, 1000), /lab\/fw-b: .*99999-99999-99999\.body is gone/);
  });

  it('`mailgw-ha ls` lists mails with headers and flags orphans; `status` counts every folder', async () => {
    const m = lab().strand({ mails: 6, vscan: 2, orphans: 2 });
    const r = await cli(['ls', 'secondary', '--json']);
    assert.strictEqual(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { active: boolean; mails: { id: string; folder: string; complete: boolean; missing?: string; messageId?: string }[]; folders: Record<string, { complete: number; incomplete: number }> };
    assert.strictEqual(out.active, false);
    assert.deepStrictEqual(out.folders.spool, { ...out.folders.spool, complete: 6, incomplete: 2 });
    assert.strictEqual(out.mails.filter((x) => x.folder === 'vscan').length, 2);
    for (const x of out.mails.filter((y) => y.complete)) assert.strictEqual(x.messageId, m.messageIds[x.id]);
    assert.strictEqual(out.mails.filter((x) => !x.complete && x.missing).length, 2);
    const text = await cli(['ls', 'fw-b', 'spool']);
    assert.strictEqual(text.code, 0, text.stderr);
    assert.strictEqual((text.stdout.match(/INCOMPLETE \(no \.(env|body)\)/g) ?? []).length, 2);
    assert.strictEqual((await cli(['ls', 'fw-b', 'outbox'])).code, 2, 'unknown folder is a usage error');

    const st = await cli(['status', '--json']);
    assert.strictEqual(st.code, 0, st.stderr);
    const units = (JSON.parse(st.stdout) as { units: Record<string, unknown>[] }).units;
    const b = units.find((u) => u.unit === 'fw-b')!;
    assert.deepStrictEqual([b['count:spool'], b['count:spool.incomplete'], b['count:vscan'], b['count:input']], [6, 2, 2, 0]);
    assert.strictEqual(units.find((u) => u.unit === 'fw-a')!['count:spool'], 0);
  });
});
