// `npm run test:electron`: the same test/suite under @vscode/test-electron, for machines that can
// download VS Code (or have one: set VSCODE_EXECUTABLE_PATH). Where neither works it says so and
// fails: a suite that did not run is never a pass.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runTests } from '@vscode/test-electron';
import { REPO } from './codeServer';

async function main(): Promise<number> {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-ha-electron-ws-'));
  const extensionTestsPath = path.join(REPO, 'out', 'suite', 'index.js');
  try {
    return await runTests({
      version: '1.100.3',
      vscodeExecutablePath: process.env.VSCODE_EXECUTABLE_PATH,
      extensionDevelopmentPath: REPO,
      extensionTestsPath,
      extensionTestsEnv: { MAILGW_SUITE_GROUP: 'empty' },
      launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust'],
    });
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    if (/ENOTFOUND|EAI_AGAIN|ECONNREFUSED|getaddrinfo|download/i.test(msg) && !process.env.VSCODE_EXECUTABLE_PATH) {
      console.error(
        `test:electron: VS Code could not be downloaded (${msg.split('\n')[0]}).\n` +
          'This runner needs Microsoft\'s update service or a local VS Code (set VSCODE_EXECUTABLE_PATH).\n' +
          'On machines without either, `npm run test:host` runs the same suite in code-server. Not counted as a pass.',
      );
      return 3;
    }
    console.error(`test:electron: ${msg}`);
    return 1;
  }
}

main().then((code) => process.exit(code));
