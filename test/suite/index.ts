// Mocha inside the VS Code extension host. Used by both runners: test/host (code-server + Chromium)
// and @vscode/test-electron. MAILGW_SUITE_GROUP picks the files `<group>.*.test.js` beside this one.
import * as fs from 'fs';
import * as path from 'path';
import * as util from 'util';
import Mocha from 'mocha';
import * as vscode from 'vscode';
import { Lab } from '../lab/lab';

/**
 * For a failing test: the suite group, the lab as the test left it, and what the extension's log
 * followers had read last, so a CI failure can be understood from the output alone.
 */
async function failureContext(group: string, title: string): Promise<string> {
  const out = [`-- context of the failure of "${title}" (suite group: ${group}) --`];
  const labDir = process.env.MAILGW_LAB_STATE;
  if (labDir) {
    try {
      out.push(Lab.attach(labDir).diagnostics());
    } catch (err) {
      out.push(`lab ${labDir}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  try {
    const state = await vscode.commands.executeCommand<{ sources?: { key: string; lines: number; tail?: string[] }[] } | undefined>('mailgwHa.logDebugState');
    for (const s of state?.sources ?? []) {
      out.push(`extension's follower ${s.key}: ${s.lines} line(s) kept; last read:`);
      for (const line of (s.tail ?? []).slice(-8)) out.push(`    | ${line}`);
    }
  } catch (err) {
    out.push(`(the extension's log state is not available: ${err instanceof Error ? err.message : String(err)})`);
  }
  return out.join('\n');
}

export async function run(): Promise<void> {
  const group = process.env.MAILGW_SUITE_GROUP ?? 'empty';
  // Mark our lines so the runner can tell them apart from the workbench's own log output.
  // Every line, so multi-line failure details (diffs, stacks) reach the runner too.
  Mocha.reporters.Base.consoleLog = (...args: unknown[]) => console.log(util.format(...args).split('\n').map((l) => `[suite] ${l}`).join('\n'));
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 60_000, reporter: 'spec' });
  // MAILGW_SUITE_ONLY=<text>[,<text>…]: only the files of the group whose name contains one of them (while developing).
  const only = process.env.MAILGW_SUITE_ONLY?.split(',').filter(Boolean);
  const files = fs.readdirSync(__dirname).filter((f) => f.startsWith(`${group}.`) && f.endsWith('.test.js') && (!only || only.some((o) => f.includes(o))));
  if (files.length === 0) throw new Error(`no suite files for group "${group}" in ${__dirname}`);
  for (const f of files.sort()) mocha.addFile(path.join(__dirname, f));
  mocha.suite.afterEach(async function (this: Mocha.Context) {
    const t = this.currentTest;
    if (t?.state === 'failed') console.log((await failureContext(group, t.fullTitle())).split('\n').map((l) => `[suite] ${l}`).join('\n'));
  });
  await new Promise<void>((resolve, reject) => {
    const runner = mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} test(s) failed`)) : resolve()));
    runner.on('end', () => {
      if (runner.stats && runner.stats.tests === 0) reject(new Error('no test ran'));
    });
  });
}
