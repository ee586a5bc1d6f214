// Extension activation time in the real VS Code host (code-server), bundle and .vsix sizes.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runSuiteInHost } from '../test/host/runSuite';
import { Benchmark, BenchRow, median } from './types';

const REPO = path.resolve(__dirname, '..');

export const benchmarks: Benchmark[] = [
  {
    name: 'host',
    async run({ runs }) {
      execFileSync('npm', ['run', '--silent', 'package'], { cwd: REPO, stdio: 'pipe' });
      const vsixKiB = fs.statSync(path.join(REPO, 'mailgw-ha.vsix')).size / 1024;
      const extKiB = fs.statSync(path.join(REPO, 'dist', 'extension.js')).size / 1024;
      const cliKiB = fs.statSync(path.join(REPO, 'dist', 'cli.js')).size / 1024;
      const sshKiB = fs.statSync(path.join(REPO, 'dist', 'ssh2.js')).size / 1024;
      // The extension as users get it (minified); the suite bundle is built unminified either way.
      execFileSync(process.execPath, ['esbuild.js', '--production'], { cwd: REPO, stdio: 'pipe' });
      // No .vscode/settings.json: that would activate the extension at start-up (workspaceContains),
      // before the suite can time a cold activation.
      const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-bench-ws-'));
      const times: number[] = [];
      const loads: number[] = [];
      const calls: number[] = [];
      for (let i = 0; i < Math.max(3, Math.min(runs, 5)); i++) {
        const out = path.join(ws, `activation-${i}.json`);
        const code = await runSuiteInHost({ group: 'bench', workspace: ws, env: { MAILGW_BENCH_OUT: out } });
        if (code !== 0 || !fs.existsSync(out)) throw new Error(`activation run ${i} failed (exit ${code})`);
        const r = JSON.parse(fs.readFileSync(out, 'utf8')) as { activationMs: number; loadMs?: number; activateMs: number };
        times.push(r.activationMs);
        if (r.loadMs !== undefined) loads.push(r.loadMs);
        calls.push(r.activateMs);
      }
      fs.rmSync(ws, { recursive: true, force: true });
      const rows: BenchRow[] = [
        { name: 'activation in code-server 4.100.3 (production bundle), as ext.activate() waits', value: median(times), unit: 'ms', runs: times, target: { max: 50, of: 'value' } },
        { name: '↳ of which loading dist/extension.js', value: median(loads), unit: 'ms', runs: loads },
        { name: '↳ of which activate() itself', value: median(calls), unit: 'ms', runs: calls },
        { name: 'dist/extension.js (production, minified)', value: extKiB, unit: 'KiB' },
        { name: 'dist/ssh2.js (production, minified; loaded on the first connection)', value: sshKiB, unit: 'KiB' },
        { name: 'dist/cli.js (production, minified)', value: cliKiB, unit: 'KiB' },
        { name: 'mailgw-ha.vsix', value: vsixKiB, unit: 'KiB' },
      ];
      return rows;
    },
  },
];
