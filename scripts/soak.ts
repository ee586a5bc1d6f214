// `npm run test:soak -- N`: the integration suite and the VS Code host suites (with the UI checks),
// N times in a row, printing pass/fail per run, so a flaky test is found before it reaches CI.
// Each run's output goes to .test-output/soak/; a failing run's failing lines are printed.
// Not part of `npm test`. Options: --only integration|host, --keep-going (default) / --stop.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const REPO = path.resolve(__dirname, '..');
const OUT = path.join(REPO, '.test-output', 'soak');

interface Step {
  name: string;
  command: string[];
}

const STEPS: Step[] = [
  { name: 'integration', command: ['npm', 'run', '--silent', 'test:integration'] },
  { name: 'host', command: ['npm', 'run', '--silent', 'test:host'] },
];

function usage(message: string): never {
  console.error(`test:soak: ${message}\nusage: npm run test:soak -- N [--only integration|host] [--stop]`);
  process.exit(2);
}

function runStep(step: Step, logFile: string): Promise<{ code: number; ms: number }> {
  const t0 = Date.now();
  const log = fs.openSync(logFile, 'w');
  return new Promise((resolve) => {
    const child = spawn(step.command[0], step.command.slice(1), { cwd: REPO, stdio: ['ignore', log, log], env: { ...process.env, FORCE_COLOR: '0' } });
    child.on('error', (err) => {
      fs.writeSync(log, `\nsoak: cannot start ${step.command.join(' ')}: ${err.message}\n`);
      fs.closeSync(log);
      resolve({ code: 127, ms: Date.now() - t0 });
    });
    child.on('exit', (code, signal) => {
      fs.closeSync(log);
      resolve({ code: code ?? (signal ? 128 : 1), ms: Date.now() - t0 });
    });
  });
}

/** The lines a reader needs from a failed step: mocha's failure list, the context blocks, exit lines. */
function failureExcerpt(logFile: string): string {
  const lines = fs.readFileSync(logFile, 'utf8').split('\n');
  const start = lines.findIndex((l) => /^\s*\d+ failing/.test(l));
  const picked = start >= 0 ? lines.slice(start, start + 80) : lines.slice(-40);
  return picked.map((l) => `      ${l}`).join('\n');
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const n = Number(args.find((a) => /^\d+$/.test(a)) ?? '1');
  if (!Number.isInteger(n) || n < 1 || n > 100) usage('N must be a whole number from 1 to 100');
  const onlyAt = args.indexOf('--only');
  const only = onlyAt >= 0 ? args[onlyAt + 1] : undefined;
  if (only !== undefined && !STEPS.some((s) => s.name === only)) usage(`--only takes ${STEPS.map((s) => s.name).join(' or ')}`);
  const stop = args.includes('--stop');
  const steps = STEPS.filter((s) => !only || s.name === only);
  fs.mkdirSync(OUT, { recursive: true });
  let passed = 0;
  let failed = 0;
  const t0 = Date.now();
  for (let run = 1; run <= n; run++) {
    const results: string[] = [];
    let ok = true;
    for (const step of steps) {
      const logFile = path.join(OUT, `run-${run}-${step.name}.log`);
      const r = await runStep(step, logFile);
      results.push(`${step.name} ${r.code === 0 ? 'pass' : `FAIL (exit ${r.code})`} ${(r.ms / 1000).toFixed(0)} s`);
      if (r.code !== 0) {
        ok = false;
        console.log(`  run ${run}: ${step.name} failed; from ${path.relative(REPO, logFile)}:\n${failureExcerpt(logFile)}`);
      }
    }
    if (ok) passed++;
    else failed++;
    console.log(`run ${run}/${n}: ${ok ? 'pass' : 'FAIL'} — ${results.join(', ')}`);
    if (!ok && stop) break;
  }
  console.log(`soak: ${passed} of ${passed + failed} run(s) passed in ${((Date.now() - t0) / 60_000).toFixed(1)} min (logs in ${path.relative(REPO, OUT)})`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exit(1);
  },
);
