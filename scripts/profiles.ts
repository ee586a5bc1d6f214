// `npm run test:profiles -- [--profiles P,Q] [--files F,G] [--no-log-file-setting] [--quiet]`: runs the recovery and log
// integration tests (or the given test files) once per lab box profile (test/lab/profiles.ts), each
// run a mocha process of its own whose shared lab is that profile (MAILGW_LAB_PROFILE), one after the
// other, then prints per profile what passed and what failed with the failing assertion's message.
// Output of each run: .test-output/profiles/<profile>.log and .json; the summary also goes to
// .test-output/profiles/summary.md. --no-log-file-setting: the labs' settings leave the cluster's logFile
// out (MAILGW_LAB_LOG_FILE_SETTING=0), so the product must find the log itself (box-log). Exit 1 if any test failed on any profile. Uses $MAILGW_LAB_NET
// like every lab (the profiles' labs take the integration lab's addresses, one at a time).
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { PROFILE_NAMES, ProfileName, profileOf } from '../test/lab/profiles';

const REPO = path.resolve(__dirname, '..');
const OUT = path.join(REPO, '.test-output', 'profiles');
/** The subset of issue 26: recovery and log integration tests, the doctor's, plus the lab's own. */
export const DEFAULT_FILES = [
  'test/integration/recovery.test.ts',
  'test/integration/recovery.transactions.test.ts',
  'test/integration/logFollow.test.ts',
  'test/integration/spool.test.ts',
  'test/integration/lab.test.ts',
  'test/integration/doctor.test.ts',
];
const USAGE = `usage: npm run test:profiles -- [--profiles ${PROFILE_NAMES.join(',')}] [--files F,G] [--no-log-file-setting] [--quiet]`;

interface Row {
  title: string;
  file?: string;
  ms?: number;
  error?: string;
}
interface Summary {
  passed: Row[];
  failed: Row[];
  pending: Row[];
  ms?: number;
}

interface Options {
  profiles: ProfileName[];
  files: string[];
  quiet: boolean;
  logFileSetting: boolean;
}

function parse(argv: string[]): Options {
  const o: Options = { profiles: [...PROFILE_NAMES], files: DEFAULT_FILES, quiet: false, logFileSetting: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quiet') o.quiet = true;
    else if (a === '--no-log-file-setting') o.logFileSetting = false;
    else if (a === '--profiles' || a === '--files') {
      const v = argv[++i];
      if (!v) throw new Error(`${a} needs a value\n${USAGE}`);
      if (a === '--profiles') o.profiles = v.split(',').map((p) => profileOf(p.trim()).name);
      else o.files = v.split(',').map((f) => f.trim());
    } else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  for (const f of o.files) if (!fs.existsSync(path.join(REPO, f))) throw new Error(`no such test file: ${f}`);
  return o;
}

/** One mocha run of `files` on `profile`; resolves with its summary (the reporter's JSON) and exit code. */
function runProfile(profile: ProfileName, o: Options): Promise<{ summary: Summary | undefined; code: number | null; ms: number; log: string }> {
  fs.mkdirSync(OUT, { recursive: true });
  const base = `${profile}${o.logFileSetting ? '' : '-no-log-file'}`;
  const summaryFile = path.join(OUT, `${base}.json`);
  const logFile = path.join(OUT, `${base}.log`);
  fs.rmSync(summaryFile, { force: true });
  const log = fs.createWriteStream(logFile);
  const t0 = Date.now();
  const mocha = path.join(REPO, 'node_modules', '.bin', 'mocha');
  // The integration config's settings (test/integration/.mocharc.json) with only these files.
  const args = ['--no-config', '--require', 'tsx/cjs', '--require', 'test/integration/hooks.ts', '--timeout', '60000', '--slow', '5000', '--reporter', 'test/lab/summaryReporter.js', ...o.files];
  const env = { ...process.env, MAILGW_LAB_PROFILE: profile, MAILGW_SUMMARY_FILE: summaryFile, ...(o.logFileSetting ? {} : { MAILGW_LAB_LOG_FILE_SETTING: '0' }) };
  return new Promise((resolve, reject) => {
    const child = spawn(mocha, args, { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = (d: Buffer) => {
      log.write(d);
      if (!o.quiet) process.stdout.write(d);
    };
    child.stdout.on('data', out);
    child.stderr.on('data', out);
    child.on('error', reject);
    child.on('close', (code) => {
      log.end();
      let summary: Summary | undefined;
      try {
        summary = JSON.parse(fs.readFileSync(summaryFile, 'utf8')) as Summary;
      } catch {
        summary = undefined;
      }
      resolve({ summary, code, ms: Date.now() - t0, log: path.relative(REPO, logFile) });
    });
  });
}

/** A failure's message on one line, cut: what the summary shows (the .log has it whole). */
function oneLine(s: string | undefined, max = 400): string {
  const t = (s ?? '').replace(/\s*\n\s*/g, ' ⏎ ').trim();
  return t.length > max ? `${t.slice(0, max)}…` : t;
}

async function main(): Promise<number> {
  const o = parse(process.argv.slice(2));
  const t0 = Date.now();
  const results: { profile: ProfileName; summary: Summary | undefined; code: number | null; ms: number; log: string }[] = [];
  for (const profile of o.profiles) {
    console.log(`\n===== profile ${profile}: ${profileOf(profile).summary} =====`);
    results.push({ profile, ...(await runProfile(profile, o)) });
  }
  const lines: string[] = [`# Integration tests per lab profile (${new Date().toISOString()})`, '', `files: ${o.files.join(', ')}${o.logFileSetting ? '' : '; logFile left out of the settings'}`, ''];
  lines.push('| profile | passing | failing | pending | time |', '|---|---|---|---|---|');
  for (const r of results) {
    const s = r.summary;
    lines.push(s ? `| ${r.profile} | ${s.passed.length} | ${s.failed.length} | ${s.pending.length} | ${Math.round(r.ms / 1000)} s |` : `| ${r.profile} | ? | mocha exited ${r.code} without a summary (see ${r.log}) | | ${Math.round(r.ms / 1000)} s |`);
  }
  for (const r of results) {
    if (!r.summary?.failed.length) continue;
    lines.push('', `## ${r.profile}: ${r.summary.failed.length} failing (${r.log})`);
    for (const f of r.summary.failed) lines.push(`- ${f.file ? `${path.basename(f.file)} › ` : ''}${f.title}: ${oneLine(f.error)}`);
  }
  lines.push('', `total ${Math.round((Date.now() - t0) / 1000)} s`);
  const text = lines.join('\n') + '\n';
  fs.mkdirSync(OUT, { recursive: true });
  fs.writeFileSync(path.join(OUT, 'summary.md'), text);
  console.log(`\n${text}`);
  const failed = results.some((r) => !r.summary || r.summary.failed.length > 0 || r.code !== 0);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(2);
  },
);
