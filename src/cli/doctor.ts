// `mailgw-ha doctor [--cluster NAME] [--json]`: every assumption a recovery rests on, checked on both
// units of each cluster (docs/box.md): folders, tools and their fallbacks, how kill takes names,
// which log file and how much of it parses, clocks, the gateway and the box's HA role, the SSH
// algorithms, free space in input/. A table with the fix for each failure; exit 1 if anything failed.
import { doctor, DoctorReport } from '../core/doctor/doctor';
import { parseRecoverySettings } from '../core/recovery/settings';
import type { ParsedArgs } from './args';
import { loadContext } from './context';
import { registerVerb } from './main';
import { printJson, printLine } from './out';

const MARK = { ok: 'ok  ', info: 'info', warn: 'WARN', fail: 'FAIL' } as const;

export function printDoctor(r: DoctorReport): void {
  printLine(`cluster ${r.cluster}: ${r.worst === 'fail' ? 'a recovery would refuse or fail, see FAIL' : r.worst === 'warn' ? 'usable, with warnings' : 'every check passed'}`);
  for (const c of r.checks) {
    printLine(`  ${MARK[c.severity]}  ${(c.unit ?? 'pair').padEnd(14)} ${c.title}: ${c.found}`);
    if (c.fix && c.severity !== 'ok') printLine(`        fix: ${c.fix}`);
    for (const e of c.examples ?? []) printLine(`        | ${e.slice(0, 300)}`);
  }
}

async function doctorVerb(args: ParsedArgs): Promise<number> {
  const ctx = loadContext(args);
  try {
    const { settings, errors } = parseRecoverySettings(ctx.raw);
    for (const e of errors) ctx.logger.warn(e);
    const reports = await Promise.all(ctx.clusters.map((c) => doctor(ctx.pool, c, settings.signalMethod)));
    if (ctx.json) printJson({ clusters: reports });
    else reports.forEach(printDoctor);
    return reports.some((r) => r.worst === 'fail') ? 1 : 0;
  } finally {
    ctx.dispose();
  }
}

registerVerb('doctor', doctorVerb);
