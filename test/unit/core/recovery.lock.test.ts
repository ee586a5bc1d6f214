import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { ClusterConfig } from '../../../src/core/config';
import { judgeLock, STALE_AFTER_S } from '../../../src/core/recovery/clusterLock';
import { adoptOldJournal, clusterKey, defaultJournalFile, stateHome } from '../../../src/core/recovery/journalPath';

const owner = (host: string, pid: number) => JSON.stringify({ user: 'ops', host, pid, tool: 'mailgw-ha CLI', at: '2026-11-30T10:00:00.000Z' });
const held = (o: { now: number; dir?: number; beat?: number; owner?: string }) =>
  ['held', `now ${o.now}`, o.dir !== undefined ? `dir ${o.dir}` : '', o.beat !== undefined ? `beat ${o.beat}` : '', o.owner !== undefined ? `owner ${o.owner}` : ''].filter(Boolean).join('\n') + '\n';

describe('recovery: cluster lock judgement', () => {
  it('a live holder on this host is not stale, and is named', () => {
    const l = judgeLock(held({ now: 1000, dir: 990, beat: 995, owner: owner('ws1', 42) }), 'ws1', () => true);
    assert.strictEqual(l.stale, undefined);
    assert.strictEqual(l.owner?.user, 'ops');
    assert.strictEqual(l.owner?.pid, 42);
    assert.strictEqual(l.heartbeatAgeS, 5);
  });
  it('a holder on this host whose process is gone is stale at once', () => {
    const l = judgeLock(held({ now: 1000, dir: 990, beat: 999, owner: owner('ws1', 42) }), 'ws1', () => false);
    assert.match(l.stale ?? '', /process 42 no longer runs on ws1/);
  });
  it('a holder on another host is stale only without a heartbeat for the bound', () => {
    const fresh = judgeLock(held({ now: 1000, beat: 1000 - STALE_AFTER_S, owner: owner('ws2', 42) }), 'ws1', () => false);
    assert.strictEqual(fresh.stale, undefined, 'its pid means nothing here');
    const old = judgeLock(held({ now: 1000, beat: 1000 - STALE_AFTER_S - 1, owner: owner('ws2', 42) }), 'ws1', () => false);
    assert.match(old.stale ?? '', /no heartbeat for 121 s/);
  });
  it("this process's own lock: held by a live run it is not stale; left by an ended run it is reclaimable here only", () => {
    const mine = owner('ws1', 4242);
    const live = judgeLock(held({ now: 1000, beat: 999, owner: mine }), 'ws1', () => true, 4242, (raw) => raw === mine);
    assert.strictEqual(live.stale, undefined, 'a run of this process holds it');
    assert.strictEqual(live.leftHere, undefined);
    const left = judgeLock(held({ now: 1000, beat: 999, owner: mine }), 'ws1', () => true, 4242, () => false);
    assert.strictEqual(left.leftHere, true);
    assert.match(left.stale ?? '', /left by an earlier run of this process \(4242\)/);
    const otherProcess = judgeLock(held({ now: 1000, beat: 999, owner: mine }), 'ws1', () => true, 777, () => false);
    assert.strictEqual(otherProcess.leftHere, undefined, "another live process's lock is never ours to reclaim");
    assert.strictEqual(otherProcess.stale, undefined);
    const otherHost = judgeLock(held({ now: 1000, beat: 999, owner: owner('ws2', 4242) }), 'ws1', () => true, 4242, () => false);
    assert.strictEqual(otherHost.leftHere, undefined, 'the same pid on another workstation is another process');
  });
  it('a lock without a readable owner: unknown, stale only when old', () => {
    assert.strictEqual(judgeLock(held({ now: 1000, dir: 990 }), 'ws1').stale, undefined);
    assert.match(judgeLock(held({ now: 1000, dir: 900 }), 'ws1').stale ?? '', /no owner/);
    const damaged = judgeLock(held({ now: 1000, dir: 990, beat: 990, owner: '$(rm -rf /)' }), 'ws1');
    assert.strictEqual(damaged.owner, undefined);
    assert.strictEqual(damaged.raw, '$(rm -rf /)', 'kept as found, so a takeover names exactly it');
  });
});

describe('recovery: default journal location', () => {
  const cluster = (name: string, host = '10.0.0.1') => ({ name, primary: { host, port: 22 }, secondary: { host: '10.0.0.2' }, server: 'box1', service: 'mailgw', spoolRoot: '/var/phion/spool/mgw', gateway: 'box1_mailgw' }) as unknown as ClusterConfig;
  it('is per user under $XDG_STATE_HOME (absolute only), else ~/.local/state', () => {
    assert.strictEqual(stateHome({ XDG_STATE_HOME: '/x/state' }), '/x/state');
    assert.strictEqual(stateHome({ XDG_STATE_HOME: 'relative' }), path.join(os.homedir(), '.local', 'state'));
    assert.match(defaultJournalFile(cluster('hq mail'), { XDG_STATE_HOME: '/x' }), /^\/x\/mailgw-ha\/hq_mail-[0-9a-f]{12}\/journal\.jsonl$/);
  });
  it('names the cluster by its units and gateway folder, not only its display name', () => {
    assert.notStrictEqual(clusterKey(cluster('lab')), clusterKey(cluster('lab', '10.0.0.9')));
    assert.strictEqual(clusterKey(cluster('lab')), clusterKey(cluster('lab')));
    assert.match(clusterKey(cluster('../$(x)')), /^_____x_-[0-9a-f]{12}$/);
  });
  it('adopts an unfinished journal from the old place, unless the new place has one', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-adopt-'));
    const old = path.join(dir, 'old', 'recovery-lab-x.jsonl');
    const neu = path.join(dir, 'new', 'journal.jsonl');
    fs.mkdirSync(path.dirname(old));
    fs.writeFileSync(old, '{"t":"run"}\n');
    fs.writeFileSync(old.replace(/\.jsonl$/, '.held.json'), '{}');
    assert.strictEqual(adoptOldJournal(old, neu), undefined);
    assert.strictEqual(fs.readFileSync(neu, 'utf8'), '{"t":"run"}\n');
    assert.ok(fs.existsSync(path.join(dir, 'new', 'journal.held.json')));
    fs.writeFileSync(old, '{"t":"run"}\n');
    assert.match(adoptOldJournal(old, neu) ?? '', /older recovery journal/);
    assert.ok(fs.existsSync(old), 'both kept');
  });
});
