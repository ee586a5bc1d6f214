// `npm start`: the extension against the embedded lab. Brings the lab up with stranded mail (as an
// interrupted HA takeback leaves it), packages the extension, and opens it in a real VS Code
// (code-server 4.100.3 in the browser; desktop VS Code with MAILGW_START_DESKTOP=1 if `code` is on
// PATH). Ctrl-C, or SIGINT/SIGTERM/SIGHUP to this process (npm forwards them to it: the script
// `exec`s tsx), stops VS Code and the lab, whatever phase it is in.
import { execFileSync, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { startCodeServer } from '../host/codeServer';
import { Lab, REPO_ROOT } from './lab';

/** What to stop on the way out, newest first. */
const cleanups: (() => Promise<void>)[] = [];
let stopping: Promise<void> | undefined;

function stopAll(): Promise<void> {
  stopping ??= (async () => {
    console.log('\nstopping …');
    for (const c of cleanups.splice(0).reverse()) await c().catch((err: Error) => console.error(`while stopping: ${err.message}`));
  })();
  return stopping;
}

// From the start: a signal during start-up (lab coming up, packaging) must not leave the lab behind.
let signalled: (() => void) | undefined;
const interrupted = new Promise<void>((resolve) => (signalled = resolve));
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(s, () => {
    if (stopping) return;
    signalled?.();
    void stopAll().then(() => process.exit(s === 'SIGINT' ? 130 : 143));
  });
}

async function main(): Promise<void> {
  const lab = new Lab();
  async function stopLab(): Promise<void> {
    if (process.env.MAILGW_LAB_KEEP === '1') return console.log('lab left up (MAILGW_LAB_KEEP=1); stop it with: npm run lab -- down');
    await lab.down();
    console.log('lab: down');
  }
  console.log(`lab: bringing up two units in ${lab.stateDir} …`);
  cleanups.push(() => stopLab());
  await lab.up();
  const m = lab.strand({ mails: 12, vscan: 3, duplicates: 2, orphans: 1 });
  lab.pauseDelivery('primary'); // keep the duplicates on the primary so the plan shows them
  console.log(`lab: stranded ${m.secondarySpool.length} mails in spool/ and ${m.secondaryVscan.length} in vscan/ of the secondary (${m.duplicates.length} also on the primary, ${m.orphans.length} incomplete)`);

  if (process.env.MAILGW_START_DESKTOP === '1' && spawnSync('code', ['--version']).status === 0) {
    execFileSync(process.execPath, [path.join(REPO_ROOT, 'esbuild.js')], { stdio: 'inherit', cwd: REPO_ROOT });
    const code = spawn('code', ['--wait', `--extensionDevelopmentPath=${REPO_ROOT}`, lab.workspacePath], { stdio: 'inherit' });
    await Promise.race([new Promise((r) => code.on('exit', r)), interrupted]);
    return stopAll();
  }

  console.log('extension: packaging …');
  execFileSync('npm', ['run', '--silent', 'package'], { stdio: 'inherit', cwd: REPO_ROOT });
  const vsix = path.join(REPO_ROOT, 'mailgw-ha.vsix');
  const stateDir = path.join(lab.stateDir, 'code-server');
  fs.rmSync(stateDir, { recursive: true, force: true });
  if (stopping) return stopping;
  const server = await startCodeServer({
    workspace: lab.workspacePath,
    vsix: [vsix],
    stateDir,
    host: process.env.MAILGW_START_HOST ?? '127.0.0.1',
    port: process.env.MAILGW_START_PORT ? Number(process.env.MAILGW_START_PORT) : undefined,
  });
  cleanups.push(() => server.stop());
  if (stopping) return stopAll();
  console.log(`
VS Code (code-server 4.100.3) with mailgw-ha and the lab workspace:

    ${server.workbenchUrl()}

Open it in a browser (from another machine: ssh -L ${server.port}:127.0.0.1:${server.port} this-host).
The "Mail Gateway HA" view in the activity bar shows the lab cluster; the secondary holds stranded mail.
Lab:  npm run lab -- status | strand | deliveries | takeover | takeback   (settings: ${lab.settingsPath})
CLI:  node dist/cli.js status --settings ${lab.settingsPath}
Press Ctrl-C to stop VS Code and the lab.`);

  await Promise.race([interrupted, new Promise<void>((resolve) => server.process.once('exit', () => resolve()))]);
  await stopAll();
}

main().then(
  () => process.exit(0),
  async (err) => {
    console.error(err instanceof Error ? err.message : err);
    await stopAll();
    process.exit(1);
  },
);
