// `npm start`: the extension against the embedded lab. Brings the lab up with stranded mail (as an
// interrupted HA takeback leaves it), packages the extension, and opens it in a real VS Code
// (code-server 4.100.3 in the browser; desktop VS Code with MAILGW_START_DESKTOP=1 if `code` is on
// PATH). Ctrl-C stops VS Code and the lab.
import { execFileSync, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { startCodeServer } from '../host/codeServer';
import { Lab, REPO_ROOT } from './lab';

async function main(): Promise<void> {
  const lab = new Lab();
  console.log(`lab: bringing up two units in ${lab.stateDir} …`);
  await lab.up();
  const m = lab.strand({ mails: 12, vscan: 3, duplicates: 2, orphans: 1 });
  lab.pauseDelivery('primary'); // keep the duplicates on the primary so the plan shows them
  console.log(`lab: stranded ${m.secondarySpool.length} mails in spool/ and ${m.secondaryVscan.length} in vscan/ of the secondary (${m.duplicates.length} also on the primary, ${m.orphans.length} incomplete)`);

  const stopLab = async () => {
    if (process.env.MAILGW_LAB_KEEP === '1') return console.log('lab left up (MAILGW_LAB_KEEP=1); stop it with: npm run lab -- down');
    await lab.down();
    console.log('lab: down');
  };

  if (process.env.MAILGW_START_DESKTOP === '1' && spawnSync('code', ['--version']).status === 0) {
    execFileSync(process.execPath, [path.join(REPO_ROOT, 'esbuild.js')], { stdio: 'inherit', cwd: REPO_ROOT });
    const code = spawn('code', ['--wait', `--extensionDevelopmentPath=${REPO_ROOT}`, lab.workspacePath], { stdio: 'inherit' });
    await new Promise((r) => code.on('exit', r));
    return stopLab();
  }

  console.log('extension: packaging …');
  execFileSync('npm', ['run', '--silent', 'package'], { stdio: 'inherit', cwd: REPO_ROOT });
  const vsix = path.join(REPO_ROOT, 'mailgw-ha.vsix');
  const stateDir = path.join(lab.stateDir, 'code-server');
  fs.rmSync(stateDir, { recursive: true, force: true });
  const server = await startCodeServer({
    workspace: lab.workspacePath,
    vsix: [vsix],
    stateDir,
    host: process.env.MAILGW_START_HOST ?? '127.0.0.1',
    port: process.env.MAILGW_START_PORT ? Number(process.env.MAILGW_START_PORT) : undefined,
  });
  console.log(`
VS Code (code-server 4.100.3) with mailgw-ha and the lab workspace:

    ${server.workbenchUrl()}

Open it in a browser (from another machine: ssh -L ${server.port}:127.0.0.1:${server.port} this-host).
The "Mail Gateway HA" view in the activity bar shows the lab cluster; the secondary holds stranded mail.
Lab:  npm run lab -- status | strand | deliveries | takeover | takeback   (settings: ${lab.settingsPath})
CLI:  node dist/cli.js status --settings ${lab.settingsPath}
Press Ctrl-C to stop VS Code and the lab.`);

  await new Promise<void>((resolve) => {
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(s, () => resolve());
    server.process.once('exit', () => resolve());
  });
  console.log('\nstopping …');
  await server.stop();
  await stopLab();
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
