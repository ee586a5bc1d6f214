// Root-hook fixture of the integration tests: one lab for the whole mocha run (state in .lab, or
// $MAILGW_LAB_DIR), up before the first test and down after the last. Test files use `lab()` and
// call `lab().reset()` in their own beforeEach. Set MAILGW_LAB_KEEP=1 to leave the lab up afterwards.
// MAILGW_LAB_PROFILE=NAME brings it up as that box profile (test/lab/profiles.ts; default: default);
// MAILGW_LAB_LOG_FILE_SETTING=0 leaves the cluster's logFile out of its settings (box-log: the
// extension must find the log itself).
import * as fs from 'fs';
import Module from 'module';
import * as os from 'os';
import * as path from 'path';
import { Lab } from '../lab/lab';
import { profileFromEnv } from '../lab/profiles';

// MAILGW_SSH2_PURE_JS=1: refuse ssh2's native addons, as in the packaged extension (the bundle
// leaves them out), so the same tests prove the build users get.
if (process.env.MAILGW_SSH2_PURE_JS === '1') {
  const loader = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
  const load = loader._load;
  loader._load = function (request: string, ...rest: unknown[]) {
    if (request.endsWith('.node') || request === 'cpu-features') throw new Error(`native addon ${request} disabled (MAILGW_SSH2_PURE_JS=1)`);
    return load.call(this, request, ...rest);
  };
}

// Default recovery journals of this run (CLI children inherit it) stay out of ~/.local/state.
if (!process.env.XDG_STATE_HOME) process.env.XDG_STATE_HOME = fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-it-state-'));

// Kept on globalThis so that every copy of this module (required by mocha, imported by test files)
// sees the same lab.
const KEY = Symbol.for('mailgw-ha.integration.lab');
const holder = globalThis as { [KEY]?: Lab };

/** The lab brought up for this mocha run. */
export function lab(): Lab {
  const l = holder[KEY];
  if (!l) throw new Error('the integration lab is not up: run mocha with --config test/integration/.mocharc.json (its "require" loads test/integration/hooks.ts)');
  return l;
}

const tracked = new Set<Lab>();

/** If mocha exits or is interrupted before afterAll, still kill the units (by their recorded PIDs). */
function killOnExit(): void {
  holder[KEY]?.killSync();
  for (const l of tracked) l.killSync();
}

/**
 * For a test file's own extra Lab: have it killed too if mocha is interrupted. Call before its
 * up(); the returned function stops tracking (call it after down()).
 */
export function trackLab(l: Lab): () => void {
  tracked.add(l);
  return () => tracked.delete(l);
}
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
function killOnSignal(signal: NodeJS.Signals): void {
  killOnExit();
  process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
}
function guard(on: boolean): void {
  if (on) {
    process.once('exit', killOnExit);
    for (const s of SIGNALS) process.once(s, killOnSignal);
  } else {
    process.removeListener('exit', killOnExit);
    for (const s of SIGNALS) process.removeListener(s, killOnSignal);
  }
}

export const mochaHooks: Mocha.RootHookObject = {
  // A failure in CI must be understandable from its output alone: show the lab as the test left it.
  afterEach(this: Mocha.Context) {
    const t = this.currentTest;
    if (t?.state !== 'failed') return;
    const labs = [holder[KEY], ...tracked].filter((l): l is Lab => l !== undefined);
    console.log(`\n  -- lab state after the failure of "${t.fullTitle()}" (group: integration) --`);
    for (const l of labs) console.log(l.diagnostics().replace(/^/gm, '  '));
  },
  async beforeAll(this: Mocha.Context) {
    this.timeout(120_000);
    const l = new Lab({ profile: profileFromEnv(), logFileSetting: process.env.MAILGW_LAB_LOG_FILE_SETTING !== '0', algorithmsSetting: process.env.MAILGW_LAB_ALGORITHMS_SETTING !== '0' });
    holder[KEY] = l;
    if (l.profile.name !== 'default' || !l.logFileSetting) console.log(`  lab profile: ${l.profile.name} (${l.profile.summary})${l.logFileSetting ? '' : ', logFile left out of the settings'}`);
    guard(true);
    await l.up();
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(120_000);
    const l = holder[KEY];
    if (!l) return;
    if (process.env.MAILGW_LAB_KEEP === '1') {
      guard(false);
      console.log(`  lab left up in ${l.stateDir} (MAILGW_LAB_KEEP=1); stop it with: npm run lab -- down`);
      return;
    }
    await l.down();
    guard(false);
    delete holder[KEY];
  },
};
