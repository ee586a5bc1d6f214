// What must hold after a history: every Message-ID that entered either unit was delivered exactly
// once; no mail is left in any spool/vscan/input but incomplete halves and mails held for the admin;
// no staging folder and no recovery lock is left.
import * as fs from 'fs';
import * as path from 'path';
import type { Lab } from '../lab';
import type { HistoryRun } from './history';

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
  const heldMids = new Set(run.entered.filter((m) => held.has(m.id)).map((m) => m.messageId));
  const d = lab.deliveries();
  let delivered = 0;
  for (const m of run.entered) {
    const n = d.byMessageId[m.messageId] ?? 0;
    if (n === 1) delivered++;
    if (n > 1) problems.push(`delivered ${n} times: ${m.messageId} (id ${m.id}, entered ${m.unit} ${m.folder}/ at step ${m.step})`);
    if (n === 0 && !heldMids.has(m.messageId)) problems.push(`lost (never delivered, not held): ${m.messageId} (id ${m.id}, entered ${m.unit} ${m.folder}/ at step ${m.step})`);
  }
  const entered = new Set(run.entered.map((m) => m.messageId));
  for (const mid of Object.keys(d.byMessageId)) if (!entered.has(mid)) problems.push(`delivered but never entered: ${mid}`);
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
          const n = e ? (d.byMessageId[e.messageId] ?? 0) : undefined;
          problems.push(`left in ${unit} ${folder}/: ${id}${e ? ` (${e.messageId}, delivered ${n} time(s))` : ''}`);
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
