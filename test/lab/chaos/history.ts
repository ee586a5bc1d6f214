// One randomized HA history against a lab with the HA sync on, as Jepsen does for databases: steps
// drawn from a seeded PRNG (mail, deliveries held and released, sync cut and healed, takeover and
// takeback, log rotation, gateway restarts, dropped SSH sessions, recoveries through the CLI and
// through the core as the extension calls it, two at once, a CLI recovery SIGKILLed, Remove Mails),
// then heal, a final recovery and a drain. What must hold afterwards is checked in check.ts, per
// SMTP transaction (envelope and content): the mail steps make transactions that share a Message-ID
// (one message to several domains, a list's re-send of a delivered one), mails without one, and
// hostile senders whose headers carry log-line text and other stranded mails' ids and Message-IDs.
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ClusterConfig, parseSettings } from '../../../src/core/config';
import { MemorySecretStore, noPrompts, silentLogger } from '../../../src/core/host';
import { listHeldMails } from '../../../src/core/recovery/held';
import { defaultJournalFile } from '../../../src/core/recovery/journalPath';
import { recover } from '../../../src/core/recovery/run';
import type { RecoveryReport } from '../../../src/core/recovery/runContract';
import { parseRecoverySettings } from '../../../src/core/recovery/settings';
import type { SpoolFolder } from '../../../src/core/spool/list';
import { ConnectionPool } from '../../../src/core/ssh/pool';
import type { Lab } from '../lab';
import { envelope, Mail, makeMail, newMailId, transactionOf, writeMail } from '../mail';
import { sleep, waitFor } from '../wait';
import { removeProvenMails } from './removeMails';
import { Rng } from './rng';

export const STEP_KINDS = [
  'mail',
  'mail-domains',
  'list-resend',
  'no-message-id',
  'hostile-sender',
  'wait',
  'pause',
  'resume',
  'partition',
  'heal',
  'takeover',
  'takeback',
  'rotate',
  'restart',
  'kill-ssh',
  'recover-cli',
  'recover-core',
  'recover-background',
  'recover-two-at-once',
  'recover-other-workstation',
  'kill-cli',
  'remove-mails',
] as const;
export type StepKind = (typeof STEP_KINDS)[number];

/** How often each kind is drawn (takeover/takeback share one draw: whichever applies). */
const WEIGHTS: Record<Exclude<StepKind, 'takeback'>, number> = {
  mail: 14,
  'mail-domains': 4,
  'list-resend': 3,
  'no-message-id': 2,
  'hostile-sender': 3,
  wait: 8,
  pause: 3,
  resume: 4,
  partition: 4,
  heal: 3,
  takeover: 4,
  rotate: 7,
  restart: 2,
  'kill-ssh': 3,
  'recover-cli': 4,
  'recover-core': 4,
  'recover-background': 3,
  'recover-two-at-once': 2,
  'recover-other-workstation': 2,
  'kill-cli': 4,
  'remove-mails': 3,
};

export interface EnteredMail {
  readonly id: string;
  readonly messageId: string;
  /** What its recipients see (transactionOf: envelope and content): what the checker counts. */
  readonly transaction: string;
  readonly unit: string;
  readonly folder: SpoolFolder;
  readonly step: number;
}

/** A fresh box id no unit of the lab holds. */
function newMailIdFor(lab: Lab): string {
  for (;;) {
    const id = newMailId();
    if (!(['primary', 'secondary'] as const).some((u) => (['spool', 'vscan', 'input'] as const).some((f) => fs.existsSync(path.join(lab.hostPath(u, f), `${id}.env`))))) return id;
  }
}

/** The envelope of a mail as the gateway writes it (its own id, sender, recipients). */
function envelopeFor(mail: Mail): string {
  return envelope(mail.id, mail.from, mail.to);
}

export interface HistoryOptions {
  readonly lab: Lab;
  /** The bundled CLI (dist/cli.js). */
  readonly cli: string;
  readonly seed: number;
  readonly steps: number;
  /** Lines of the history as they happen (for a live view); they are kept in the result too. */
  readonly onLine?: (line: string) => void;
}

export interface HistoryRun {
  readonly seed: number;
  readonly lines: string[];
  readonly counts: Partial<Record<StepKind | 'final-recovery' | 'held-resolved', number>>;
  readonly entered: EnteredMail[];
  /** Per-user state folders of the two simulated workstations (their journals). */
  readonly workstations: { a: string; b: string };
  readonly cluster: ClusterConfig;
  /** What the recoveries did, summed over every report: whether the history exercised them at all. */
  readonly recovered: RecoveryTally;
}

export interface RecoveryTally {
  inserted: number;
  duplicatesRemoved: number;
  held: number;
}

type Outcome = { what: string; report?: Partial<Omit<RecoveryReport, 'errors' | 'lockedBy'>> & { errors?: { id?: string | null; message: string }[]; lockedBy?: { stale?: string | null } } };

const CONFIRM_TIMEOUT_MS = 20_000;

/** The tlog of pending sync actions of a unit (host path). */
export function tlogPath(lab: Lab, ref: 'primary' | 'secondary'): string {
  return path.join(path.dirname(lab.hostPath(ref, 'spool')), 'sync.tlog');
}
export function pendingSync(lab: Lab, ref: 'primary' | 'secondary'): { op: string; id: string }[] {
  try {
    return fs.readFileSync(tlogPath(lab, ref), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { op: string; id: string });
  } catch {
    return [];
  }
}

/** Nothing of a unit's sync is pending: no action in its transaction log, none queued in memory or on its way. */
export function syncSettled(lab: Lab, ref: 'primary' | 'secondary'): boolean {
  return pendingSync(lab, ref).length === 0 && !fs.existsSync(`${tlogPath(lab, ref)}.busy`);
}

export function labCluster(lab: Lab): ClusterConfig {
  const raw = JSON.parse(fs.readFileSync(lab.settingsPath, 'utf8')) as Record<string, unknown>;
  return parseSettings(raw['mailgwHa.clusters'], raw['mailgwHa.knownHostsFile']).clusters[0];
}

export class History {
  readonly lines: string[] = [];
  readonly counts: Partial<Record<StepKind | 'final-recovery' | 'held-resolved', number>> = {};
  readonly entered: EnteredMail[] = [];
  private readonly rng: Rng;
  private readonly t0 = Date.now();
  private readonly lab: Lab;
  private readonly cluster: ClusterConfig;
  private readonly pool: ConnectionPool;
  private readonly ws: { a: string; b: string };
  private readonly children = new Set<ChildProcess>();
  private background: Promise<void>[] = [];
  private step = 0;
  private mailNo = 0;
  private readonly recovered: RecoveryTally = { inserted: 0, duplicatesRemoved: 0, held: 0 };
  private readonly settings = parseRecoverySettings({}).settings;

  constructor(private readonly o: HistoryOptions) {
    this.rng = new Rng(o.seed);
    this.lab = o.lab;
    this.cluster = labCluster(o.lab);
    const root = fs.mkdtempSync(path.join(os.tmpdir(), `mailgw-chaos-${o.seed}-`));
    this.ws = { a: path.join(root, 'workstation-a'), b: path.join(root, 'workstation-b') };
    // The core's recoveries (as the extension runs them) use the default journal of workstation A.
    process.env.XDG_STATE_HOME = this.ws.a;
    this.pool = new ConnectionPool({ prompts: noPrompts, secrets: new MemorySecretStore(), logger: silentLogger, knownHostsFiles: [o.lab.knownHostsPath], sshConfigFile: '/nonexistent', reconnectDelaysMs: [200, 1000], connectTimeoutMs: 5000 });
  }

  private say(text: string): void {
    const line = `[${((Date.now() - this.t0) / 1000).toFixed(1).padStart(6)} s] ${text}`;
    this.lines.push(line);
    this.o.onLine?.(line);
  }
  private count(kind: StepKind | 'final-recovery' | 'held-resolved'): void {
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
  }

  async run(): Promise<HistoryRun> {
    try {
      await this.lab.reset();
      this.say(`history seed ${this.o.seed}: ${this.o.steps} steps`);
      for (this.step = 1; this.step <= this.o.steps; this.step++) await this.randomStep();
      await this.finish();
    } finally {
      for (const c of this.children) c.kill('SIGKILL');
      await Promise.allSettled(this.background);
      this.pool.dispose();
    }
    return { seed: this.o.seed, lines: this.lines, counts: this.counts, entered: this.entered, workstations: this.ws, cluster: this.cluster, recovered: this.recovered };
  }

  /**
   * Some mails as real traffic has them: the Message-ID after 9 KB of Received/DKIM headers (read
   * only from the first 8 KB, it was once missed and the mail delivered twice), or a Message-ID that
   * is not one <left@right> value, which no log search can prove: the plan holds it for the admin.
   */
  private hostileMail(mail: Mail): Mail & { note?: string } {
    const roll = this.rng.int(1, 100);
    if (roll <= 10) {
      const received = Array.from({ length: 60 }, (_, i) => `Received: from relay${i}.example.net (relay${i}.example.net [198.51.100.${i + 1}])\r\n\tby mx${i}.example.net with ESMTPS id ${1000 + i}; Mon, 30 Nov 2026 10:00:00 +0000`).join('\r\n');
      return { ...mail, body: Buffer.concat([Buffer.from(`${received}\r\n`), mail.body]), note: 'Message-ID after 9 KB of headers' };
    }
    if (roll <= 16) {
      const bare = mail.messageId.slice(1, -1);
      return { ...mail, messageId: bare, body: Buffer.from(mail.body.toString('latin1').replace(`Message-ID: ${mail.messageId}`, `Message-ID: ${bare}`), 'latin1'), note: 'malformed Message-ID' };
    }
    return mail;
  }

  /** The admin looks at the primary's queue: does it hold a mail of this transaction right now? */
  private primaryHolds(transaction: string): boolean {
    for (const folder of ['spool', 'vscan', 'input'] as const) {
      const dir = this.lab.hostPath('primary', folder);
      for (const n of fs.readdirSync(dir)) {
        if (!n.endsWith('.env') || n.startsWith('.')) continue;
        try {
          const env = fs.readFileSync(path.join(dir, n), 'utf8');
          const body = fs.readFileSync(path.join(dir, `${n.slice(0, -4)}.body`));
          const from = /^MAIL FROM:<([^>]*)>/m.exec(env)?.[1] ?? '';
          const to = [...env.matchAll(/^RCPT TO:<([^>]*)>/gm)].map((m) => m[1]);
          if (transactionOf({ from, to, body }) === transaction) return true;
        } catch {
          continue; // delivered meanwhile
        }
      }
    }
    return false;
  }

  /** Writes a mail into a unit's folder and records its transaction for the checker. */
  private enter(mail: Mail, unit: 'primary' | 'secondary', folder: SpoolFolder): void {
    writeMail(this.lab.hostPath(unit, folder), mail);
    this.entered.push({ id: mail.id, messageId: mail.messageId, transaction: transactionOf(mail), unit, folder, step: this.step });
  }

  /** Complete mails in a unit's spool/ right now (host side). */
  private spooled(unit: 'primary' | 'secondary'): { id: string; env: string; body: Buffer }[] {
    const dir = this.lab.hostPath(unit, 'spool');
    const out: { id: string; env: string; body: Buffer }[] = [];
    for (const n of fs.readdirSync(dir)) {
      if (!/^\d{5}-\d{5}-\d{5}\.env$/.test(n)) continue;
      try {
        out.push({ id: n.slice(0, -4), env: fs.readFileSync(path.join(dir, n), 'utf8'), body: fs.readFileSync(path.join(dir, `${n.slice(0, -4)}.body`)) });
      } catch {
        // delivered meanwhile
      }
    }
    return out;
  }

  private active(): 'primary' | 'secondary' | undefined {
    const a = this.lab.activeUnit();
    return a ? (a.role as 'primary' | 'secondary') : undefined;
  }

  private async randomStep(): Promise<void> {
    // A secondary stays active for a few steps, not most of the history: recoveries need the primary.
    let kind: StepKind = this.active() === 'secondary' && this.rng.chance(0.2) ? 'takeback' : this.rng.weighted(WEIGHTS);
    if (kind === 'takeover' && this.active() === 'secondary') kind = 'takeback';
    const unit = this.rng.pick(['primary', 'secondary'] as const);
    const n = `#${this.step} ${kind}`;
    this.count(kind);
    switch (kind) {
      case 'mail': {
        const to = this.active();
        if (!to) return this.say(`${n}: no active unit, no mail arrives`);
        const folder: SpoolFolder = this.rng.chance(0.25) ? 'vscan' : 'spool';
        const k = this.rng.int(1, 4);
        const ids: string[] = [];
        for (let i = 0; i < k; i++) {
          const mail = this.hostileMail(makeMail({ n: ++this.mailNo, tag: `chaos${this.o.seed}`, size: this.rng.int(1, 24) * 1024 }));
          this.enter(mail, to, folder);
          ids.push(`${mail.id}${mail.note ? ` (${mail.note})` : ''}`);
        }
        return this.say(`${n}: ${k} mail(s) into ${to} ${folder}/ (${ids.join(' ')})`);
      }
      case 'mail-domains': {
        // One message to recipients at several domains: one transaction per domain, one Message-ID,
        // the same content. With the primary active, some go to it (delivered soon) and some are
        // left on the standby as a takeover would strand them.
        const to = this.active();
        if (!to) return this.say(`${n}: no active unit, no mail arrives`);
        const k = this.rng.int(2, 4);
        const base = makeMail({ n: ++this.mailNo, tag: `chaos${this.o.seed}`, size: this.rng.int(1, 12) * 1024 });
        const parts: string[] = [];
        for (let i = 0; i < k; i++) {
          const unit = to === 'primary' && this.rng.chance(0.5) ? 'secondary' : to;
          const mail: Mail = { ...base, id: newMailIdFor(this.lab), to: [`user${i}@domain${i}.example`], env: '' };
          mail.env = envelopeFor(mail);
          this.enter(mail, unit, 'spool');
          parts.push(`${mail.id}→${unit}`);
        }
        return this.say(`${n}: ${base.messageId} to ${k} domains as ${k} transactions (${parts.join(' ')})`);
      }
      case 'list-resend': {
        // A list re-sends a message (delivered or not) under its Message-ID: another envelope,
        // other content (the list's headers), a new transaction.
        const to = this.active();
        if (!to) return this.say(`${n}: no active unit, no mail arrives`);
        const delivered = this.entered.filter((m) => (this.lab.deliveries().byTransaction[m.transaction] ?? 0) > 0 && /^<.+>$/.test(m.messageId));
        const orig = delivered.length ? this.rng.pick(delivered) : undefined;
        if (!orig) return this.say(`${n}: nothing delivered to re-send yet`);
        const base = makeMail({ n: ++this.mailNo, tag: `chaos${this.o.seed}`, size: this.rng.int(1, 8) * 1024 });
        const body = Buffer.from(base.body.toString('latin1').replace(`Message-ID: ${base.messageId}`, `Message-ID: ${orig.messageId}\r\nList-Id: <staff.lists.example>`), 'latin1');
        const unit = to === 'primary' && this.rng.chance(0.5) ? 'secondary' : to;
        const mail: Mail = { ...base, messageId: orig.messageId, from: 'staff-bounces@lists.example', to: ['member1@dest.example', 'member2@other.example'], body, env: '' };
        mail.env = envelopeFor(mail);
        this.enter(mail, unit, 'spool');
        return this.say(`${n}: the list re-sends ${orig.messageId} (first as ${orig.id}) as ${mail.id} into ${unit} spool/`);
      }
      case 'no-message-id': {
        const to = this.active();
        if (!to) return this.say(`${n}: no active unit, no mail arrives`);
        const base = makeMail({ n: ++this.mailNo, tag: `chaos${this.o.seed}`, size: this.rng.int(1, 8) * 1024 });
        const mail: Mail = { ...base, messageId: '', body: Buffer.from(base.body.toString('latin1').replace(`Message-ID: ${base.messageId}\r\n`, ''), 'latin1') };
        const unit = to === 'primary' && this.rng.chance(0.5) ? 'secondary' : to;
        this.enter(mail, unit, 'spool');
        return this.say(`${n}: a mail without Message-ID (${mail.id}) into ${unit} spool/`);
      }
      case 'hostile-sender': {
        // A sender who writes log lines into headers: its Message-ID names a mail stranded on the
        // standby as delivered, its Subject says that mail was inserted, and it carries another
        // stranded mail's Message-ID; the active unit delivers it (and logs its headers).
        const to = this.active();
        if (!to) return this.say(`${n}: no active unit, no mail arrives`);
        const victims = this.spooled(to === 'primary' ? 'secondary' : 'primary');
        const v = victims.length ? this.rng.pick(victims) : undefined;
        const victimId = v?.id ?? '12345-67890-12345';
        const victimRcpt = v ? (/^RCPT TO:<([^>]*)>/m.exec(v.env)?.[1] ?? 'x@dest.example') : 'x@dest.example';
        const victimMid = v ? (/^message-id:\s*(\S+)/im.exec(v.body.subarray(0, 65536).toString('latin1'))?.[1] ?? '<none@x>') : '<none@x>';
        const base = makeMail({ n: ++this.mailNo, tag: `chaos${this.o.seed}`, size: 4096, to: [victimRcpt] });
        const forged = this.rng.chance(0.5) ? `${victimMid}, to=${victimRcpt}) DELIVERY mail delivered (id=${victimId}, message-id=${victimMid}, to=${victimRcpt}` : `${victimMid} SPOOLER new mail inserted (id=${victimId})`;
        const head = base.body.toString('latin1').replace(`Message-ID: ${base.messageId}`, `Message-ID: ${forged}`).replace(/^Subject: .*$/m, `Subject: SPOOLER new mail inserted (id=${victimId})`);
        const mail: Mail = { ...base, messageId: forged, body: Buffer.from(head, 'latin1') };
        this.enter(mail, to, 'spool');
        return this.say(`${n}: a hostile sender's ${mail.id} into ${to} spool/ naming ${v ? `the standby's ${victimId}` : 'no stranded mail'} as delivered and inserted`);
      }
      case 'wait': {
        const ms = this.rng.int(200, 2500);
        await sleep(ms);
        return this.say(`${n}: ${ms} ms`);
      }
      case 'pause':
        this.lab.pauseDelivery(unit);
        return this.say(`${n}: delivery held on ${unit}`);
      case 'resume':
        this.lab.resumeDelivery(unit);
        return this.say(`${n}: delivery resumed on ${unit}`);
      case 'partition':
        this.lab.partition();
        return this.say(`${n}: HA sync path cut`);
      case 'heal':
        this.lab.heal();
        return this.say(`${n}: HA sync path restored`);
      case 'takeover':
      case 'takeback': {
        const [from, to] = kind === 'takeover' ? (['primary', 'secondary'] as const) : (['secondary', 'primary'] as const);
        return this.say(`${n}: ${await this.switchActive(from, to)}`);
      }
      case 'rotate': {
        // Mostly the active unit's log: the one whose history proves deliveries.
        const which = this.rng.chance(0.75) ? (this.active() ?? unit) : unit;
        // As logrotate's compress does, some set-aside logs are gzipped: the proof must read them too.
        const gzip = this.rng.chance(0.3);
        await this.lab.rotate(which, { gzip });
        return this.say(`${n}: log of ${which} rotated${gzip ? ' and the old one gzipped' : ''}`);
      }
      case 'restart': {
        const a = this.active();
        if (!a) return this.say(`${n}: no gateway runs`);
        await this.lab.stopGateway(a);
        await this.lab.startGateway(a);
        return this.say(`${n}: gateway on ${a} restarted`);
      }
      case 'kill-ssh': {
        const k = await this.lab.killSshSessions(unit);
        return this.say(`${n}: ${k} ssh session(s) of ${unit} killed`);
      }
      case 'recover-cli':
        return this.say(`${n}: ${(await this.cliRecovery('a')).what}`);
      case 'recover-core':
        return this.say(`${n}: ${(await this.coreRecovery()).what}`);
      case 'recover-background': {
        const viaCli = this.rng.chance(0.5);
        this.say(`${n}: ${viaCli ? 'CLI' : 'core'} recovery started in the background`);
        const step = this.step;
        this.background.push((viaCli ? this.cliRecovery('a') : this.coreRecovery()).then((r) => this.say(`  (#${step} background ${viaCli ? 'CLI' : 'core'} recovery) ${r.what}`)));
        return;
      }
      case 'recover-two-at-once': {
        const [c, e] = await Promise.all([this.cliRecovery('a'), this.coreRecovery()]);
        return this.say(`${n}: CLI: ${c.what} | core: ${e.what}`);
      }
      case 'recover-other-workstation':
        return this.say(`${n}: ${(await this.cliRecovery('b')).what}`);
      case 'kill-cli': {
        const ms = this.rng.int(50, 4000);
        const r = await this.cliRecovery(this.rng.chance(0.8) ? 'a' : 'b', ms);
        return this.say(`${n}: SIGKILL after ${ms} ms: ${r.what}`);
      }
      case 'remove-mails': {
        const dir = this.lab.hostPath(unit, 'spool');
        const ids = [...new Set(fs.readdirSync(dir).filter((f) => /^\d{5}-\d{5}-\d{5}\.env$/.test(f)).map((f) => f.replace(/\.env$/, '')))].filter((id) => fs.existsSync(path.join(dir, `${id}.body`)));
        const chosen = ids.filter(() => this.rng.chance(0.5)).slice(0, 4);
        if (!chosen.length) return this.say(`${n}: nothing to select in ${unit} spool/`);
        try {
          const r = await removeProvenMails(this.pool, this.cluster, this.cluster[unit], chosen.map((id) => ({ id, folder: 'spool' as const })), this.settings);
          return this.say(`${n}: on ${unit}: removed ${r.removed.map((m) => `${m.id} (${m.proof})`).join(', ') || 'none'}; kept ${r.kept.join(' ') || 'none'}${r.refused ? `; refused: ${r.refused}` : ''}`);
        } catch (e) {
          return this.say(`${n}: on ${unit}: error: ${(e as Error).message}`);
        }
      }
    }
  }

  /**
   * A planned HA switch. The outgoing unit's pending sync deletes (copies of mail it delivered) are
   * handed over first, as the sync would have applied them: otherwise the new active unit delivers
   * those copies again — a duplicate of the HA pair itself, which no recovery can prevent.
   */
  private async switchActive(from: 'primary' | 'secondary', to: 'primary' | 'secondary'): Promise<string> {
    if (this.active() !== from) return `${from} is not active; nothing to do`;
    await this.lab.stopGateway(from);
    const pending = pendingSync(this.lab, from);
    const deletes = pending.filter((a) => a.op === 'delete');
    for (const a of deletes) for (const ext of ['body', 'env']) fs.rmSync(path.join(this.lab.hostPath(to, 'spool'), `${a.id}.${ext}`), { force: true });
    if (deletes.length) fs.writeFileSync(tlogPath(this.lab, from), pending.filter((a) => a.op !== 'delete').map((a) => JSON.stringify(a) + '\n').join(''));
    await this.lab.startGateway(to);
    return `gateway moved from ${from} to ${to}${deletes.length ? ` (${deletes.length} pending sync delete(s) handed over)` : ''}${pending.length - deletes.length ? `, ${pending.length - deletes.length} pending copy(ies) stay queued on ${from}` : ''}`;
  }

  private describe(r: Outcome['report'], how: string): string {
    if (!r) return `${how}: no report`;
    this.recovered.inserted += r.inserted ?? 0;
    this.recovered.duplicatesRemoved += r.removedDuplicates ?? 0;
    this.recovered.held += r.held ?? 0;
    const err = r.errors?.length ? `; ${r.errors.length} error(s), first: ${r.errors[0].message.slice(0, 200)}` : '';
    const res = r.resumed ? `; resumed ${JSON.stringify(r.resumed)}` : '';
    // What the plan left on the standby and why, so a failing history shows the proofs it rested on.
    const why = (xs: { id: string; reason?: string | null }[] | undefined, what: string) => (xs?.length ? `; ${what}: ${xs.map((x) => `${x.id} (${(x.reason ?? '').slice(0, 140)})`).join(', ')}` : '');
    return `${how}: ${r.outcome}: planned ${r.planned}, inserted ${r.inserted}, removed ${r.removed}, duplicates ${r.skippedDuplicates}, rolled back ${r.rolledBack}, held ${r.held}${res}${err}${why(r.plan?.duplicates, 'duplicates')}${why(r.plan?.held, 'held for a decision')}`;
  }

  /** The core's recovery as the extension calls it (its pool, the default journal, plan confirmed). */
  async coreRecovery(takeOver = false): Promise<Outcome> {
    try {
      const report = await recover({
        client: 'chaos (core, as the extension)',
        takeOverStaleLock: takeOver,
        pool: this.pool,
        cluster: this.cluster,
        settings: this.settings,
        journalFile: defaultJournalFile(this.cluster, { XDG_STATE_HOME: this.ws.a }),
        confirmPlan: async () => true,
        confirmTimeoutMs: CONFIRM_TIMEOUT_MS,
      });
      const what = this.describe(report, takeOver ? 'core, taking over the stale lock' : 'core');
      // The admin reads the refusal: a lock shown as stale (its holder was killed) is taken over.
      if (report.lockedBy?.stale && !takeOver) return { what: `${what} => ${(await this.coreRecovery(true)).what}` };
      return { what, report };
    } catch (e) {
      return { what: `core: threw: ${(e as Error).message}` };
    }
  }

  /** `mailgw-ha recover --yes --json` as a child process of workstation a or b; SIGKILLed after killMs. */
  cliRecovery(ws: 'a' | 'b', killMs?: number, takeOver = false): Promise<Outcome> {
    const args = [this.o.cli, 'recover', '--yes', '--json', '--settings', this.lab.settingsPath, ...(takeOver ? ['--take-over-lock'] : [])];
    return new Promise((resolve) => {
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, XDG_STATE_HOME: this.ws[ws], MAILGW_HA_CONFIRM_TIMEOUT_MS: String(CONFIRM_TIMEOUT_MS) } });
      this.children.add(child);
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d));
      child.stderr.on('data', (d: Buffer) => (err += d));
      const t = killMs !== undefined ? setTimeout(() => child.kill('SIGKILL'), killMs) : undefined;
      child.on('close', (code, signal) => {
        if (t) clearTimeout(t);
        this.children.delete(child);
        const how = `CLI(${ws}${takeOver ? ', --take-over-lock' : ''})`;
        if (signal) return resolve({ what: `${how}: killed (${signal})` });
        let report: Outcome['report'];
        try {
          report = JSON.parse(out) as Outcome['report'];
        } catch {
          return resolve({ what: `${how}: exit ${code}: ${(err || out).trim().split('\n').slice(-2).join(' | ').slice(0, 300)}` });
        }
        const what = `${this.describe(report, how)} (exit ${code})`;
        if (report?.lockedBy?.stale && !takeOver) void this.cliRecovery(ws, undefined, true).then((r) => resolve({ what: `${what} => ${r.what}`, report: r.report }));
        else resolve({ what, report });
      });
    });
  }

  // ---- the end of a history: heal, a final recovery, drain -----------------------------------------

  /**
   * The admin's part: every mail held for a decision is checked against what really happened (the
   * simulators' delivery records stand in for asking the recipients) and then inserted (not
   * delivered) or discarded (delivered) through the held-mail resolution, from the workstation whose
   * journal holds it.
   */
  private async resolveHeld(): Promise<void> {
    for (const ws of ['a', 'b'] as const) {
      const journalFile = defaultJournalFile(this.cluster, { XDG_STATE_HOME: this.ws[ws] });
      let list;
      try {
        list = await listHeldMails(this.pool, this.cluster, journalFile, this.settings.deliveryLogPattern);
      } catch (e) {
        this.say(`final: held mails (${ws}) not listed: ${(e as Error).message}`);
        continue;
      }
      for (const h of list.mails) {
        const entered = this.entered.find((m) => m.id === h.id);
        // As an admin would check, for this very transaction (never its Message-ID): delivered
        // already, or waiting in the primary's queue.
        const delivered = entered ? (this.o.lab.deliveries().byTransaction[entered.transaction] ?? 0) : 0;
        const onPrimary = !!entered && this.primaryHolds(entered.transaction);
        const action = delivered > 0 || onPrimary ? 'discard' : 'insert';
        this.count('held-resolved');
        try {
          const r = await recover({ pool: this.pool, cluster: this.cluster, settings: this.settings, journalFile, confirmTimeoutMs: CONFIRM_TIMEOUT_MS, client: 'chaos admin', takeOverStaleLock: true, resolveHeld: { id: h.id, action } });
          this.say(`final: held ${h.id} (${ws}, ${h.source}: ${h.why.slice(0, 120)}), delivered ${delivered} time(s)${onPrimary ? ', in the primary\'s queue' : ''}: ${action}: ${r.resolved?.done ? 'done' : `NOT done: ${r.outcome} ${r.errors.map((e) => e.message).join('; ').slice(0, 200)}`}`);
        } catch (e) {
          this.say(`final: held ${h.id} (${ws}): ${action} threw: ${(e as Error).message}`);
        }
      }
    }
  }

  private async finish(): Promise<void> {
    this.say('final: waiting for background recoveries');
    await Promise.allSettled(this.background);
    this.background = [];
    this.lab.heal();
    this.lab.resumeDelivery('primary');
    this.lab.resumeDelivery('secondary');
    if (this.active() === 'secondary') this.say(`final: ${await this.switchActive('secondary', 'primary')}`);
    else if (!this.active()) {
      await this.lab.startGateway('primary');
      this.say('final: gateway started on primary');
    }
    this.say('final: sync healed, delivery resumed on both units; waiting for the sync queue to drain');
    await waitFor('the primary\'s sync queue to drain', () => syncSettled(this.lab, 'primary'), 30_000).catch((e: Error) => this.say(`final: ${e.message}`));
    // Each workstation finishes what its own journal left; then the last word goes to workstation A.
    for (const ws of ['b', 'a'] as const) {
      const journal = defaultJournalFile(this.cluster, { XDG_STATE_HOME: this.ws[ws] });
      if (ws === 'b' && !fs.existsSync(journal)) continue;
      for (let attempt = 1; attempt <= 3; attempt++) {
        this.count('final-recovery');
        const r = ws === 'a' ? await this.coreRecovery() : await this.cliRecovery('b');
        this.say(`final recovery (${ws}, attempt ${attempt}): ${r.what}`);
        const ok = r.report && (r.report.outcome === 'done' || r.report.outcome === 'nothing-to-do' || (r.report.outcome === 'failed' && (r.report.errors ?? []).every((e) => /held/.test(e.message))));
        if (ok) break;
      }
    }
    await this.resolveHeld();
    this.say('final: draining');
    await waitFor(
      'the primary to deliver everything',
      () => (['spool', 'vscan', 'input'] as const).every((f) => !fs.readdirSync(this.lab.hostPath('primary', f)).some((x) => /\.(env|body)$/.test(x) && !x.startsWith('.'))) && syncSettled(this.lab, 'primary'),
      60_000,
      100,
    ).catch((e: Error) => this.say(`final: ${e.message}`));
    // Once quiet (nothing deliverable in a running simulator, no sync action pending or on its way), a
    // late second delivery is impossible.
    await this.lab.waitForQuiet().catch((e: Error) => this.say(`final: ${e.message}`));
    this.say('final: drained');
  }
}
