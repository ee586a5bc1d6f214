// `npm run test:host`: every suite group in a real VS Code host, then the browser (UI) checks.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Lab } from '../lab/lab';
import { HOST_LAB_DIR, hostLabAddresses } from './hostLab';
import { runSuiteInHost } from './runSuite';

async function main(): Promise<number> {
  const only = process.argv[2];
  const emptyWorkspace = fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-ha-empty-ws-'));
  fs.mkdirSync(path.join(emptyWorkspace, '.vscode'));
  fs.writeFileSync(path.join(emptyWorkspace, '.vscode', 'settings.json'), '{}\n');
  const runs = [
    { group: 'empty', workspace: emptyWorkspace, lab: false },
    { group: 'lab', workspace: path.join(HOST_LAB_DIR, 'workspace'), lab: true },
  ].filter((r) => !only || r.group === only);
  let failed = 0;
  for (const run of runs) {
    console.log(`\n== VS Code host (code-server 4.100.3): suite group "${run.group}" ==`);
    const t0 = Date.now();
    const lab = run.lab ? new Lab({ stateDir: HOST_LAB_DIR, addresses: hostLabAddresses() }) : undefined;
    let code: number;
    try {
      if (lab) await lab.up();
      code = await runSuiteInHost({ ...run, env: { ...(lab ? { MAILGW_LAB_STATE: lab.stateDir } : {}), ...(process.env.MAILGW_SUITE_ONLY ? { MAILGW_SUITE_ONLY: process.env.MAILGW_SUITE_ONLY } : {}) } });
    } finally {
      if (lab && process.env.MAILGW_LAB_KEEP !== '1') await lab.down();
    }
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
