// The doctor's report as the readable page "Check Units…" opens in the markdown preview: one table
// per cluster, then the fix for each failure and the log lines that do not parse. Every value goes
// through the Markdown neutraliser (nothing a unit says becomes a link, markup or a table cell).
import { markdownText } from '../text/markdown';
import type { DoctorReport } from './doctor';

const MARK = { ok: '✓ ok', info: 'ℹ info', warn: '⚠ warning', fail: '✖ FAIL' } as const;

export function doctorMarkdown(reports: readonly DoctorReport[]): string {
  const out: string[] = ['# Check Units', ''];
  for (const r of reports) {
    out.push(`## Cluster ${markdownText(r.cluster)}`, '', `Checked ${markdownText(r.at)}: ${r.worst === 'fail' ? '**a recovery would refuse or fail** (see ✖)' : r.worst === 'warn' ? 'usable, with warnings' : 'every check passed'}.`, '');
    out.push('| unit | check | result | found |', '|---|---|---|---|');
    for (const c of r.checks) out.push(`| ${markdownText(c.unit ?? 'the pair')} | ${markdownText(c.title)} | ${MARK[c.severity]} | ${markdownText(c.found, 2_000)} |`);
    const fixes = r.checks.filter((c) => c.fix && c.severity !== 'ok');
    if (fixes.length) {
      out.push('', '### What to do', '');
      for (const c of fixes) out.push(`- ${markdownText(c.unit ?? 'the pair')}, ${markdownText(c.title)}: ${markdownText(c.fix, 2_000)}${c.blocksRecovery ? ' *(a recovery refuses until this is fixed)*' : ''}`);
    }
    const examples = r.checks.filter((c) => c.examples?.length);
    for (const c of examples) {
      out.push('', `### Lines of ${markdownText(c.unit ?? '')}'s log that are not in the box's format`, '');
      for (const e of c.examples!) out.push(`- ${markdownText(e, 400)}`);
    }
    out.push('');
  }
  return out.join('\n');
}
