// `npm run test:host`: every suite group in a real VS Code host, then the browser (UI) checks.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runSuiteInHost } from './runSuite';

async function main(): Promise<number> {
  const only = process.argv[2];
  const emptyWorkspace = fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-ha-empty-ws-'));
  fs.mkdirSync(path.join(emptyWorkspace, '.vscode'));
  fs.writeFileSync(path.join(emptyWorkspace, '.vscode', 'settings.json'), '{}\n');
  const runs = [{ group: 'empty', workspace: emptyWorkspace }].filter((r) => !only || r.group === only);
  let failed = 0;
  for (const run of runs) {
    console.log(`\n== VS Code host (code-server 4.100.3): suite group "${run.group}" ==`);
    const t0 = Date.now();
    const code = await runSuiteInHost(run);
    console.log(`== group "${run.group}": exit ${code} in ${((Date.now() - t0) / 1000).toFixed(1)} s ==`);
    if (code !== 0) failed++;
  }
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exit(1);
  },
);
