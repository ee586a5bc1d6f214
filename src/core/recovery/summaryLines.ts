// The recovery report as plain lines: what the CLI prints and what the extension writes to its log.
import type { RecoveryReport } from './runContract';

/** The counts first, then one line per held, warned, failed, incomplete or ignored thing. */
export function summaryLines(r: RecoveryReport): string[] {
  const lines = [
    `${r.cluster}: ${r.outcome}: planned ${r.planned}, copied ${r.copied}, verified ${r.verified}, inserted ${r.inserted}, removed ${r.removed}; skipped ${r.skippedDuplicates} duplicate(s), ${r.skippedOrphans} incomplete; ${r.ignoredEntries} entr(ies) ignored; ${(r.durationMs / 1000).toFixed(1)} s${r.method ? ` (${r.method})` : ''}`,
  ];
  if (r.lockTakenBack) lines.push(`  lock: ${r.lockTakenBack}`);
  if (r.resumed) lines.push(`  interrupted earlier run: ${r.resumed.finished} finished, ${r.resumed.rolledBack} undone, ${r.resumed.held} held for a manual check`);
  if (r.removedDuplicates) lines.push(`  ${r.removedDuplicates} duplicate(s) removed from the secondary, each proved on the primary again right before:`);
  for (const d of r.duplicatesRemoved ?? []) lines.push(`    ${d.folder}/${d.id}: ${d.proof}`);
  for (const h of r.plan?.held ?? []) lines.push(`  held for a decision, left on the secondary: ${h.id} (${h.reason})`);
  for (const w of r.plan?.warnings ?? []) lines.push(`  warning: ${w}`);
  if (r.plan?.logs.length) lines.push(`  primary logs: ${r.plan.logs.join('; ')}`);
  if (r.standbyLeft) lines.push(`  at the end: ${r.standbyLeft}`);
  if (r.rolledBack) lines.push(`  ${r.rolledBack} copy(ies) removed from the primary's input/ again (the originals stay on the secondary)`);
  for (const e of r.errors) lines.push(`  error${e.id ? ` (${e.id})` : ''}: ${e.message}`);
  for (const i of r.plan?.incomplete ?? []) lines.push(`  incomplete, left alone: ${i.id} (${i.reason})`);
  for (const i of r.plan?.ignored ?? []) lines.push(`  ignored in ${i.folder}/: ${JSON.stringify(i.name)} (${i.reason})`);
  if (r.journal) lines.push(`  journal: ${r.journal}`);
  if (r.reportFile) lines.push(`  report: ${r.reportFile}`);
  return lines;
}
