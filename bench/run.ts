// `npm run bench [-- --quick] [-- --runs N] [-- --only NAME]`: every benchmark in bench/*.ts, each
// figure beside the baseline measured in the same run, as a ratio. JSON in bench/results/.
import * as fs from 'fs';
import * as path from 'path';
import { Benchmark, BenchRow } from './types';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function fmt(v: number, unit: string): string {
  const digits = v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${v.toFixed(digits)} ${unit}`;
}

async function main(): Promise<number> {
  const quick = process.argv.includes('--quick');
  const runs = Number(arg('runs') ?? (quick ? 1 : 5));
  const only = arg('only');
  const files = fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith('.ts') && !['run.ts', 'types.ts'].includes(f))
    .sort();
  const results: { module: string; rows: BenchRow[]; error?: string }[] = [];
  for (const f of files) {
    const mod = (await import(path.join(__dirname, f))) as { benchmarks?: Benchmark[] };
    for (const b of mod.benchmarks ?? []) {
      if (only && b.name !== only) continue;
      process.stderr.write(`bench: ${b.name} (${runs} run(s)) …\n`);
      const t0 = Date.now();
      try {
        const rows = await b.run({ runs, quick });
        results.push({ module: b.name, rows });
      } catch (err) {
        results.push({ module: b.name, rows: [], error: (err as Error).stack ?? String(err) });
        process.stderr.write(`bench: ${b.name} FAILED: ${(err as Error).message}\n`);
      }
      process.stderr.write(`bench: ${b.name} done in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    }
  }
  const lines: string[] = [];
  lines.push('| benchmark | ours | baseline (same run) | ratio | target | |');
  lines.push('|---|---|---|---|---|---|');
  let missed = 0;
  for (const r of results) {
    if (r.error) lines.push(`| ${r.module} | FAILED: ${r.error.split('\n')[0]} | | | | ✗ |`);
    for (const row of r.rows) {
      const ratio = row.baseline ? row.value / row.baseline.value : undefined;
      const measured = row.target ? (row.target.of === 'ratio' ? ratio : row.value) : undefined;
      const ok = row.target && measured !== undefined ? measured <= row.target.max : undefined;
      if (ok === false) missed++;
      lines.push(
        `| ${row.name} | ${fmt(row.value, row.unit)} | ${row.baseline ? `${row.baseline.name}: ${fmt(row.baseline.value, row.unit)}` : ''} | ${ratio !== undefined ? `${ratio.toFixed(2)}×` : ''} | ${row.target ? (row.target.of === 'ratio' ? `≤ ${row.target.max}×` : `≤ ${row.target.max} ${row.unit}`) : ''} | ${ok === undefined ? '' : ok ? '✓' : '✗'} |`,
      );
      if (row.note) lines.push(`| ↳ ${row.note} | | | | | |`);
    }
  }
  console.log(lines.join('\n'));
  const outDir = path.join(__dirname, 'results');
  fs.mkdirSync(outDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const json = JSON.stringify({ at: new Date().toISOString(), runs, quick, results }, null, 2);
  fs.writeFileSync(path.join(outDir, `bench-${stamp}.json`), json);
  fs.writeFileSync(path.join(outDir, 'latest.json'), json);
  fs.writeFileSync(path.join(outDir, 'latest.md'), lines.join('\n') + '\n');
  console.log(`\nresults: bench/results/latest.json (and latest.md); ${missed} target(s) missed`);
  return results.some((r) => r.error) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
