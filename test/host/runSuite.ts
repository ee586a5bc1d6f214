// Runs test/suite inside a real VS Code extension host (code-server + Chromium) and exits with the
// suite's result. Each run opens its own workspace, in a fresh code-server.
import * as fs from 'fs';
import * as path from 'path';
import { launchBrowser, REPO, startCodeServer } from './codeServer';

export interface SuiteRun {
  /** Picks the suite files to run: test/suite/<group>.*.test.ts. */
  readonly group: string;
  readonly workspace: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
}

export async function runSuiteInHost(run: SuiteRun): Promise<number> {
  const suiteIndex = path.join(REPO, 'out', 'suite', 'index.js');
  if (!fs.existsSync(suiteIndex)) throw new Error(`${suiteIndex} is missing: run \`node esbuild.js\` first`);
  const server = await startCodeServer({ workspace: run.workspace, env: { MAILGW_SUITE_GROUP: run.group, ...run.env } });
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    let resolveExit!: (code: number) => void;
    const exited = new Promise<number>((r) => (resolveExit = r));
    await page.exposeFunction('codeAutomationExit', (code: number) => resolveExit(code));
    await page.exposeFunction('codeAutomationLog', (_type: string, args: unknown[]) => {
      const text = (Array.isArray(args) ? args : [args]).map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
      // The suite prefixes its own output so it can be told apart from workbench chatter.
      for (const line of text.split('\n')) {
        const m = /\[suite\] ?(.*)$/.exec(line);
        if (m) process.stdout.write(`${m[1]}\n`);
      }
    });
    page.on('pageerror', (err) => process.stderr.write(`[workbench page error] ${err.message}\n`));
    await page.goto(server.workbenchUrl({ extensionDevelopmentPath: REPO, extensionTestsPath: suiteIndex }), { timeout: 180_000 });
    // A deadline for a hung host, not a speed target: the lab group takes 2-3 min idle, far longer under load.
    const timeoutMs = run.timeoutMs ?? 20 * 60_000;
    const code = await Promise.race([
      exited,
      new Promise<number>((r) => setTimeout(() => r(-1), timeoutMs)),
    ]);
    if (code === -1) {
      const shot = path.join(REPO, '.test-output', `suite-timeout-${run.group}.png`);
      fs.mkdirSync(path.dirname(shot), { recursive: true });
      await page.screenshot({ path: shot }).catch(() => undefined);
      process.stderr.write(`suite group "${run.group}" did not finish within ${timeoutMs} ms (screenshot: ${shot}; code-server log: ${server.stateDir}/code-server.log)\n`);
      return 1;
    }
    return code;
  } finally {
    await browser.close().catch(() => undefined);
    await server.stop();
  }
}
