// What must hold after a history, judged as the recipients see it: every SMTP transaction (envelope
// and content; never a Message-ID, which senders choose and share) that entered either unit was
// delivered exactly once; no mail is left in any spool/vscan/input but incomplete halves and mails
// held for the admin; no staging folder and no recovery lock is left.
import * as fs from 'fs';
import * as path from 'path';
import type { Lab } from '../lab';
import type { EnteredMail, HistoryRun } from './history';

export interface CheckResult {
  readonly ok: boolean;
  readonly problems: string[];
  readonly mails: number;
  readonly delivered: number;
  readonly held: string[];
}

/** The held marks on the primary (host path of .mailgw-ha-held). */
export function unitHeldMarks(lab: Lab): Map<string, string> {
  const dir = path.join(path.dirname(lab.hostPath('primary', 'spool')), '.mailgw-ha-held');
  const out = new Map<string, string>();
  if (!fs.existsSync(dir)) return out;
  for (const n of fs.readdirSync(dir)) if (!n.startsWith('.')) out.set(n, fs.readFileSync(path.join(dir, n), 'utf8').trim());
  return out;
}

/** Ids held for a decision, from the held lists of both workstations' journals and the primary's marks. */
export function heldIds(run: HistoryRun, lab: Lab): Map<string, string> {
  const out = unitHeldMarks(lab);
  for (const dir of [run.workstations.a, run.workstations.b]) {
    const base = path.join(dir, 'mailgw-ha');
    if (!fs.existsSync(base)) continue;
    for (const sub of fs.readdirSync(base)) {
      const f = path.join(base, sub, 'journal.held.json');
      if (!fs.existsSync(f)) continue;
      for (const [id, why] of Object.entries(JSON.parse(fs.readFileSync(f, 'utf8')) as Record<string, string>)) out.set(id, why);
    }
  }
  return out;
}

export function checkHistory(lab: Lab, run: HistoryRun): CheckResult {
  const problems: string[] = [];
  const held = heldIds(run, lab);
  const heldTransactions = new Set(run.entered.filter((m) => held.has(m.id)).map((m) => m.transaction));
  const d = lab.deliveries();
  let delivered = 0;
  // The same transaction can enter twice only if a test sent it twice on purpose: then it is owed twice.
  const owed = new Map<string, EnteredMail[]>();
  for (const m of run.entered) owed.set(m.transaction, [...(owed.get(m.transaction) ?? []), m]);
  for (const [t, ms] of owed) {
    const n = d.byTransaction[t] ?? 0;
    const m = ms[0];
    const what = `transaction ${t} (id ${m.id}, Message-ID ${m.messageId || '(none)'}, entered ${m.unit} ${m.folder}/ at step ${m.step})`;
    if (n === ms.length) delivered += ms.length;
    if (n > ms.length) problems.push(`delivered ${n} times: ${what}`);
    if (n < ms.length && !heldTransactions.has(t)) problems.push(`lost (never delivered, not held): ${what}`);
  }
  for (const t of Object.keys(d.byTransaction)) if (!owed.has(t)) problems.push(`delivered but never entered: transaction ${t}`);
  for (const unit of ['primary', 'secondary'] as const) {
    for (const folder of ['spool', 'vscan', 'input'] as const) {
      const dir = lab.hostPath(unit, folder);
      const names = fs.readdirSync(dir);
      const parts = new Map<string, Set<string>>();
      for (const n of names) {
        const m = /^([^.].*)\.(body|env)$/.exec(n);
        if (m) parts.set(m[1], (parts.get(m[1]) ?? new Set()).add(m[2]));
      }
      for (const [id, p] of parts) {
        if (p.size === 2 && !(unit === 'secondary' && held.has(id))) {
          const e = run.entered.find((x) => x.id === id);
          const n = e ? (d.byTransaction[e.transaction] ?? 0) : undefined;
          problems.push(`left in ${unit} ${folder}/: ${id}${e ? ` (transaction ${e.transaction}, ${e.messageId || 'no Message-ID'}, delivered ${n} time(s))` : ''}`);
        }
      }
      for (const n of names) if (n.startsWith('.mailgw-ha')) problems.push(`staging entry left in ${unit} ${folder}/: ${n}`);
    }
    const base = path.dirname(lab.hostPath(unit, 'spool'));
    for (const n of fs.readdirSync(base)) if (n.startsWith('.mailgw-ha') && n !== '.mailgw-ha-held') problems.push(`recovery lock or staging left in ${unit} ${path.basename(base)}/: ${n}`);
  }
  // A mark on the primary whose mail is no longer on the standby was left behind by a resolution.
  const onStandby = new Set((['spool', 'vscan'] as const).flatMap((f) => fs.readdirSync(lab.hostPath('secondary', f)).filter((n) => n.endsWith('.env')).map((n) => n.slice(0, -4))));
  for (const id of unitHeldMarks(lab).keys()) if (!onStandby.has(id)) problems.push(`held mark left on the primary for ${id}, which is no longer on the standby`);
  return { ok: problems.length === 0, problems, mails: run.entered.length, delivered, held: [...held.keys()] };
}
