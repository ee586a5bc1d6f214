// The recovery report for people: a markdown page beside the JSON report (which stays for scripts).
// Per mail what happened, for skipped mails the proof (why they were skipped), the time of each
// phase with the time the confirmation dialog waited left out, and where the journal is.
import { markdownText } from '../text/markdown';
import type { RecoveryPhase, RecoveryReport } from './runContract';

/** What the caller saw while the run went on (phase changes and the confirmation wait). */
export interface RunTimings {
  /** When each phase was first reported (ms since the epoch), in order. */
  readonly phases: readonly { phase: RecoveryPhase; at: number }[];
  readonly startedAt: number;
  readonly endedAt: number;
  /** How long the plan dialog waited for the user (ms). */
  readonly confirmWaitMs: number;
  /** Ids the log confirmed as inserted. */
  readonly confirmedIds: readonly string[];
}

/** A value in the report's Markdown (the preview links bare URLs): longer than a tooltip's, still capped. */
const REPORT_VALUE_MAX = 4_000;

/**
 * Markdown text is data here: nothing from a unit may become markup or a link. The project's
 * Markdown neutraliser (every ASCII punctuation escaped, so no link, autolink, HTML or table cell
 * forms; controls and invisible characters shown as escapes; one line).
 */
function md(s: string): string {
  return markdownText(s, REPORT_VALUE_MAX);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Per phase: its time, the confirmation wait subtracted from the phase it fell in. */
export function phaseDurations(t: RunTimings): { phase: RecoveryPhase; ms: number }[] {
  const out: { phase: RecoveryPhase; ms: number }[] = [];
  const seen = t.phases.filter((p, i) => i === 0 || p.phase !== t.phases[i - 1].phase);
  for (let i = 0; i < seen.length; i++) {
    const end = i + 1 < seen.length ? seen[i + 1].at : t.endedAt;
    let ms = Math.max(0, end - seen[i].at);
    // The dialog opens after the plan is made, before copying starts: it is part of "plan".
    if (seen[i].phase === 'plan') ms = Math.max(0, ms - t.confirmWaitMs);
    if (seen[i].phase === 'done' || seen[i].phase === 'failed' || seen[i].phase === 'cancelled') continue;
    out.push({ phase: seen[i].phase, ms });
  }
  return out;
}

export function recoveryReportMarkdown(r: RecoveryReport, t: RunTimings, units: { primary: string; secondary: string }): string {
  const errorsById = new Map<string, string[]>();
  for (const e of r.errors) if (e.id) errorsById.set(e.id, [...(errorsById.get(e.id) ?? []), e.message]);
  const confirmed = new Set(t.confirmedIds);
  const working = t.endedAt - t.startedAt - t.confirmWaitMs;
  const lines: string[] = [
    `# Recovery report: ${md(r.cluster)}`,
    '',
    `**Outcome: ${r.outcome}** — ${r.inserted} inserted on ${md(units.primary)}, ${r.removed} removed from ${md(units.secondary)}, ${r.skippedDuplicates} duplicate(s) not moved (${r.removedDuplicates} of them removed from ${md(units.secondary)} once proved again), ${r.skippedOrphans} incomplete skipped${r.heldForDecision ? `, ${r.heldForDecision} held for a decision` : ''}${r.held ? `, ${r.held} held for a manual check` : ''}.`,
    '',
    `Started ${new Date(t.startedAt).toISOString()}; working time ${seconds(working)} (the ${seconds(t.confirmWaitMs)} the plan dialog waited for you not counted)${r.method ? `; copied by ${r.method}` : ''}.`,
    '',
    '## Mails',
    '',
    '| mail | outcome | proof / detail |',
    '|---|---|---|',
  ];
  for (const id of r.plan?.move ?? []) {
    const errs = errorsById.get(id);
    const outcome = errs ? 'error' : confirmed.has(id) ? 'inserted' : r.outcome === 'done' ? 'placed' : 'not finished';
    const detail = errs ? errs.join('; ') : confirmed.has(id) ? `the log of ${units.primary} shows its insertion` : r.outcome === 'done' ? `in ${units.primary}'s input/` : 'the journal finishes or undoes it on the next run';
    lines.push(`| ${md(id)} | ${outcome} | ${md(detail)} |`);
  }
  const removedDup = new Map((r.duplicatesRemoved ?? []).map((d) => [d.id, d]));
  for (const d of r.plan?.duplicates ?? []) {
    const gone = removedDup.get(d.id);
    if (gone) lines.push(`| ${md(d.id)} | duplicate: removed from ${md(units.secondary)} | ${md(`proved again right before: ${gone.proof}`)} |`);
    else lines.push(`| ${md(d.id)} | skipped: duplicate | ${md(d.reason ?? 'on the primary')}${r.outcome === 'done' ? md(`; left on ${units.secondary} (not removed: see the log)`) : ''} |`);
  }
  for (const i of r.plan?.incomplete ?? []) lines.push(`| ${md(i.id)} | skipped: incomplete — check by hand | ${md(i.reason ?? 'one half of the pair is missing')} |`);
  for (const h of r.plan?.held ?? []) lines.push(`| ${md(h.id)} | held for a decision — Held Mails… | ${md(h.reason ?? 'neither proved delivered nor undelivered')} |`);
  if (r.resolved) lines.push(`| ${md(r.resolved.id)} | held mail ${r.resolved.done ? (r.resolved.action === 'insert' ? 'inserted' : 'discarded') : 'not resolved'} | ${md(r.resolved.why ?? `as decided: ${r.resolved.action}`)} |`);
  if (!(r.plan?.move.length || r.plan?.duplicates.length || r.plan?.incomplete.length || r.plan?.held.length || r.resolved)) lines.push('| — | nothing planned | |');
  const otherErrors = r.errors.filter((e) => !e.id);
  if (otherErrors.length || [...errorsById.keys()].some((id) => !(r.plan?.move ?? []).includes(id))) {
    lines.push('', '## Errors', '');
    for (const e of r.errors) if (!e.id || !(r.plan?.move ?? []).includes(e.id)) lines.push(`- ${e.id ? `${md(e.id)}: ` : ''}${md(e.message)}`);
  }
  lines.push('', '## Phases', '', '| phase | time |', '|---|---|');
  for (const p of phaseDurations(t)) lines.push(`| ${p.phase} | ${seconds(p.ms)} |`);
  lines.push(`| (plan dialog waiting for you, not counted) | ${seconds(t.confirmWaitMs)} |`);
  if (r.lockTakenBack) lines.push('', `Lock: ${md(r.lockTakenBack)}`);
  if (r.resumed) lines.push('', `An interrupted earlier run was finished first: ${r.resumed.finished} finished, ${r.resumed.rolledBack} undone, ${r.resumed.held} held.`);
  if (r.plan?.ignored.length) {
    lines.push('', '## Entries that are not mail (left alone)', '');
    for (const i of r.plan.ignored) lines.push(`- ${md(i.folder)}/: ${md(JSON.stringify(i.name))} (${md(i.reason)})`);
  }
  lines.push('', '## Files', '');
  if (r.journal) lines.push(`- Journal: [${md(r.journal)}](${encodeURI(`file://${r.journal}`)})`);
  if (r.reportFile) lines.push(`- The same report as JSON (for scripts): [${md(r.reportFile)}](${encodeURI(`file://${r.reportFile}`)})`);
  return lines.join('\n') + '\n';
}
