// Mails held for the admin's decision, and where they come from:
// - the journal's held list (<journal>.held.json): a copy of an interrupted run left the primary's
//   input/ without any trace of insertion or delivery, so the original stays on the standby and no
//   later run touches it;
// - the plan: a mail whose delivery cannot be proved either way (no readable Message-ID, the logs
//   that would hold its delivery are gone, an ambiguous match).
// The admin resolves each by inserting it (after checking it was not delivered) or by discarding the
// standby's copy (after checking it was); both go through recover() with its locks and journal.
//
// The journal's held list is also written on the primary (beside the recovery lock, in
// .mailgw-ha-held/<id>): a run from another workstation (whose journal does not know the interrupted
// run) must hold the same mail, not move it on evidence the interrupted run already found wanting.
import * as fs from 'fs';
import type { ClusterConfig } from '../config';
import { gatewayDirs } from '../config';
import { isSafeMailId } from '../names';
import { writePrivateFile } from '../privateFiles';
import type { SpoolFolder } from '../spool/list';
import { listFolder } from '../spool/list';
import type { UnitConnection } from '../ssh/connection';
import type { ConnectionPool } from '../ssh/pool';
import { makePlan } from './plan';
import { LINK_EXIT, linkRefused, RecoveryError } from './remote';

export const UNIT_HELD_DIR = '.mailgw-ha-held';
/** At most this many marks are read (a damaged folder cannot flood a plan). */
const UNIT_HELD_MAX = 10_000;

export function unitHeldDir(cluster: ClusterConfig): string {
  return `${gatewayDirs(cluster).base}/${UNIT_HELD_DIR}`;
}

// Every script refuses a symbolic link at the folder, at a mark, and at a mark's temporary name
// (test -f and mv follow links): it prints the path and exits LINK_EXIT.
// $1 folder, $2 max count: one line per mark, "<name>\t<first 1 KB of why, one line>".
const READ_UNIT_HELD = `[ -L "$1" ] && { printf '%s\n' "$1"; exit ${LINK_EXIT}; }
[ -d "$1" ] || exit 0
n=0
for f in "$1"/*; do
  [ -L "$f" ] && { printf '%s\n' "$f"; exit ${LINK_EXIT}; }
  [ -f "$f" ] || continue
  n=$((n+1)); [ "$n" -gt "$2" ] && break
  printf '%s\t' "\${f##*/}"; head -c 1024 -- "$f" | tr '\n\t\r' '   '; echo
done`;
// $1 folder, $2 id, $3 why: written to a temporary name, renamed into place.
const ADD_UNIT_HELD = `[ -L "$1" ] && { printf '%s\n' "$1"; exit ${LINK_EXIT}; }
mkdir -p -m 700 -- "$1" || exit 1
for p in "$1" "$1/.$2.tmp" "$1/$2"; do [ -L "$p" ] && { printf '%s\n' "$p"; exit ${LINK_EXIT}; }; done
[ -e "$1/$2" ] && [ ! -f "$1/$2" ] && { echo "$1/$2 is not a regular file" >&2; exit 1; }
printf '%s\n' "$3" > "$1/.$2.tmp" && mv -f -- "$1/.$2.tmp" "$1/$2"`;
// $1 folder, $2 id (a mark that is a link is removed as the link itself).
const REMOVE_UNIT_HELD = `[ -L "$1" ] && { printf '%s\n' "$1"; exit ${LINK_EXIT}; }
rm -f -- "$1/$2" && { rmdir -- "$1" 2>/dev/null; exit 0; }`;

const MARKS = 'the held marks';
function refusedOrFailed(primary: UnitConnection, r: { code: number | null; stdout: Buffer }, what: string): RecoveryError {
  if (r.code === LINK_EXIT) return linkRefused(primary.address.label, r.stdout.toString('utf8').trim(), MARKS);
  return new RecoveryError(`${primary.address.label}: ${what} (exit ${r.code})`);
}

/** The held marks on the primary: id → why. */
export async function readUnitHeld(primary: UnitConnection, cluster: ClusterConfig): Promise<Map<string, string>> {
  const r = await primary.execScript(READ_UNIT_HELD, [unitHeldDir(cluster), String(UNIT_HELD_MAX)], { timeoutMs: 30_000, maxStdoutBytes: UNIT_HELD_MAX * 1200, readOnly: true });
  if (r.code !== 0) throw refusedOrFailed(primary, r, `cannot read the held marks in ${unitHeldDir(cluster)}`);
  const out = new Map<string, string>();
  for (const line of r.stdout.toString('utf8').split('\n')) {
    const tab = line.indexOf('\t');
    if (tab <= 0) continue;
    const id = line.slice(0, tab);
    if (isSafeMailId(id)) out.set(id, line.slice(tab + 1).trim());
  }
  return out;
}

export async function addUnitHeld(primary: UnitConnection, cluster: ClusterConfig, id: string, why: string): Promise<void> {
  if (!isSafeMailId(id)) throw new RecoveryError(`not a mail id: ${JSON.stringify(id.slice(0, 80))}`);
  const r = await primary.execScript(ADD_UNIT_HELD, [unitHeldDir(cluster), id, why.slice(0, 1000)], { timeoutMs: 30_000 });
  if (r.code !== 0) throw refusedOrFailed(primary, r, `cannot write the held mark for ${id} in ${unitHeldDir(cluster)}`);
}

export async function removeUnitHeld(primary: UnitConnection, cluster: ClusterConfig, id: string): Promise<void> {
  if (!isSafeMailId(id)) return;
  const r = await primary.execScript(REMOVE_UNIT_HELD, [unitHeldDir(cluster), id], { timeoutMs: 30_000 });
  if (r.code !== 0) throw refusedOrFailed(primary, r, `cannot remove the held mark for ${id} in ${unitHeldDir(cluster)}`);
}

/** Held by an interrupted run: this workstation's journal list and the marks on the primary. */
export async function readAllHeld(primary: UnitConnection, cluster: ClusterConfig, journalFile: string): Promise<Map<string, string>> {
  return new Map([...(await readUnitHeld(primary, cluster)), ...readHeld(journalFile)]);
}

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
  writePrivateFile(f, JSON.stringify(Object.fromEntries(m), null, 2) + '\n');
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
  const journalHeld = await readAllHeld(pool.get(cluster.primary), cluster, journalFile);
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
