// Mails held for the admin's decision, and where they come from:
// - the journal's held list (<journal>.held.json): a copy of an interrupted run left the primary's
//   input/ without any trace of insertion or delivery, so the original stays on the standby and no
//   later run touches it;
// - the plan: a mail whose delivery cannot be proved either way (no readable Message-ID, the logs
//   that would hold its delivery are gone, an ambiguous match).
// The admin resolves each by inserting it (after checking it was not delivered) or by discarding the
// standby's copy (after checking it was); both go through recover() with its locks and journal.
import * as fs from 'fs';
import type { ClusterConfig } from '../config';
import type { SpoolFolder } from '../spool/list';
import { listFolder } from '../spool/list';
import type { ConnectionPool } from '../ssh/pool';
import { makePlan } from './plan';

export function heldFile(journalFile: string): string {
  return journalFile.replace(/\.jsonl$/, '') + '.held.json';
}

export function readHeld(journalFile: string): Map<string, string> {
  try {
    return new Map(Object.entries(JSON.parse(fs.readFileSync(heldFile(journalFile), 'utf8')) as Record<string, string>));
  } catch {
    return new Map();
  }
}

function writeHeld(journalFile: string, m: Map<string, string>): void {
  const f = heldFile(journalFile);
  fs.writeFileSync(`${f}.tmp`, JSON.stringify(Object.fromEntries(m), null, 2) + '\n');
  fs.renameSync(`${f}.tmp`, f);
}

export function addHeld(journalFile: string, id: string, why: string): void {
  const m = readHeld(journalFile);
  m.set(id, why);
  writeHeld(journalFile, m);
}

export function removeHeld(journalFile: string, id: string): void {
  const m = readHeld(journalFile);
  if (m.delete(id)) writeHeld(journalFile, m);
}

export interface HeldMail {
  readonly id: string;
  /** Where it is on the standby (undefined: no longer there). */
  readonly folder?: SpoolFolder;
  readonly why: string;
  /** "journal": an interrupted run could not decide; "plan": its delivery cannot be proved either way. */
  readonly source: 'journal' | 'plan';
  readonly messageId?: string;
  readonly bytes?: number;
}

/** Every held mail of the cluster (the journal's list, and what the plan cannot decide), with why. */
export async function listHeldMails(pool: ConnectionPool, cluster: ClusterConfig, journalFile: string, deliveryLogPattern: RegExp): Promise<{ mails: HeldMail[]; warnings: string[] }> {
  const journalHeld = readHeld(journalFile);
  const warnings: string[] = [];
  const mails: HeldMail[] = [];
  const sc = pool.get(cluster.secondary);
  const where = new Map<string, { folder: SpoolFolder; bytes: number }>();
  for (const folder of ['spool', 'vscan'] as const) {
    for (const m of (await listFolder(sc, cluster, folder)).mails) if (m.complete) where.set(m.id, { folder, bytes: m.body!.size + m.env!.size });
  }
  for (const [id, why] of journalHeld) mails.push({ id, why, source: 'journal', folder: where.get(id)?.folder, bytes: where.get(id)?.bytes });
  try {
    const plan = await makePlan(pool, cluster, { deliveryLogPattern, exclude: new Set(journalHeld.keys()) });
    for (const m of plan.held) mails.push({ id: m.id, why: m.reason ?? 'cannot be proved delivered or not', source: 'plan', folder: m.folder, messageId: m.messageId, bytes: m.bodySize + m.envSize });
    warnings.push(...plan.warnings);
  } catch (e) {
    warnings.push(`the mails the plan cannot decide are not listed: ${(e as Error).message}`);
  }
  return { mails, warnings };
}
