// Starts a real VS Code workbench (code-server 4.100.3) with its Node extension host, and drives it
// from Debian's Chromium through playwright-core. Shared by the test runner, the UI checks and `npm start`.
import { spawn, ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

export const REPO = path.resolve(__dirname, '..', '..');
export const HOST_DIR = path.join(REPO, '.cache', 'host');
export const CODE_SERVER_BIN = path.join(HOST_DIR, 'node_modules', '.bin', 'code-server');
export const CHROMIUM = process.env.MAILGW_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];

export interface CodeServerOptions {
  /** Folder opened as the workspace. */
  readonly workspace: string;
  /** Extra environment for code-server and so for the extension host. */
  readonly env?: NodeJS.ProcessEnv;
  /** Install these .vsix files into the fresh extensions folder before starting. */
  readonly vsix?: string[];
  /** Keep workspace trust checks on (default: off, as trust prompts block automation). */
  readonly workspaceTrust?: boolean;
  readonly port?: number;
  readonly host?: string;
  /** Where the user data, extensions and logs go; a fresh temp folder by default. */
  readonly stateDir?: string;
  readonly userSettings?: Record<string, unknown>;
  /** User keybindings (keybindings.json). */
  readonly keybindings?: readonly { key: string; command: string; args?: unknown }[];
}

export interface CodeServer {
  readonly url: string;
  readonly port: number;
  readonly stateDir: string;
  readonly process: ChildProcess;
  /** Workbench URL that loads the extension under development and, optionally, runs a test module. */
  workbenchUrl(opts?: { extensionDevelopmentPath?: string; extensionTestsPath?: string; folder?: string }): string;
  stop(): Promise<void>;
}

export function ensureInstalled(): void {
  if (!fs.existsSync(CODE_SERVER_BIN)) {
    throw new Error(`code-server is not installed in ${HOST_DIR}: run \`bash test/host/install.sh\` (needs the npm registry and Debian's chromium, ripgrep, libkrb5-dev)`);
  }
  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install chromium (or set MAILGW_CHROMIUM)`);
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, host: string, timeoutMs: number, proc: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`code-server exited with ${proc.exitCode}; see ${logFile}:\n${tail(logFile)}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, host, () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`code-server did not listen on ${host}:${port} within ${timeoutMs} ms; see ${logFile}:\n${tail(logFile)}`);
}

function tail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * A lab's workspace comes with user settings beside it (test/lab/lab.ts writes
 * `<lab>/user-settings.json`): machine-scoped settings such as mailgwHa.knownHostsFile, which VS Code
 * does not take from a workspace.
 */
function labUserSettings(workspace: string): Record<string, unknown> {
  try {
    return JSON.parse(fs.readFileSync(path.join(path.dirname(workspace), 'user-settings.json'), 'utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

export async function startCodeServer(opts: CodeServerOptions): Promise<CodeServer> {
  ensureInstalled();
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? (await freePort(host));
  const stateDir = opts.stateDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-ha-host-'));
  const userDataDir = path.join(stateDir, 'user-data');
  const extensionsDir = path.join(stateDir, 'extensions');
  const xdg = path.join(stateDir, 'xdg');
  for (const d of [userDataDir, extensionsDir, path.join(userDataDir, 'User'), path.join(xdg, 'config'), path.join(xdg, 'data')]) fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(
    path.join(userDataDir, 'User', 'settings.json'),
    JSON.stringify(
      {
        'workbench.startupEditor': 'none',
        'workbench.tips.enabled': false,
        'telemetry.telemetryLevel': 'off',
        'extensions.autoUpdate': false,
        'extensions.autoCheckUpdates': false,
        'update.mode': 'none',
        'security.workspace.trust.startupPrompt': 'never',
        'workbench.enableExperiments': false,
        ...labUserSettings(opts.workspace),
        ...opts.userSettings,
      },
      null,
      2,
    ),
  );
  if (opts.keybindings) fs.writeFileSync(path.join(userDataDir, 'User', 'keybindings.json'), JSON.stringify(opts.keybindings, null, 2));
  const env = {
    ...process.env,
    XDG_CONFIG_HOME: path.join(xdg, 'config'),
    XDG_DATA_HOME: path.join(xdg, 'data'),
    // Recovery journals (shared by the extension and the CLI) go here, not into ~/.local/state.
    XDG_STATE_HOME: path.join(xdg, 'state'),
    ...opts.env,
  };
  const common = ['--extensions-dir', extensionsDir, '--user-data-dir', userDataDir];
  for (const vsix of opts.vsix ?? []) {
    await new Promise<void>((resolve, reject) => {
      const p = spawn(CODE_SERVER_BIN, [...common, '--install-extension', vsix, '--force'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      p.stdout?.on('data', (d) => (out += d));
      p.stderr?.on('data', (d) => (out += d));
      p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`code-server --install-extension ${vsix} failed (${code}):\n${out}`))));
    });
  }
  const logFile = path.join(stateDir, 'code-server.log');
  const log = fs.openSync(logFile, 'a');
  const args = [
    '--bind-addr',
    `${host}:${port}`,
    '--auth',
    'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    ...(opts.workspaceTrust ? [] : ['--disable-workspace-trust']),
    ...common,
    opts.workspace,
  ];
  // Its own process group, so stop() ends code-server and every extension host it started.
  const proc = spawn(CODE_SERVER_BIN, args, { env, detached: true, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  const stop = async () => {
    if (proc.exitCode !== null || proc.pid === undefined) return;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    try {
      process.kill(-proc.pid, 'SIGTERM');
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-proc.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, 3000);
    await exited;
    clearTimeout(timer);
    // Extension hosts may outlive their parent briefly; the group kill reaches them too.
    try {
      process.kill(-proc.pid, 'SIGKILL');
    } catch {
      /* group empty */
    }
  };
  try {
    await waitForPort(port, host, 30000, proc, logFile);
  } catch (err) {
    await stop();
    throw err;
  }
  const base = `http://${host}:${port}`;
  return {
    url: base,
    port,
    stateDir,
    process: proc,
    stop,
    workbenchUrl({ extensionDevelopmentPath, extensionTestsPath, folder } = {}) {
      const payload: [string, string][] = [['skipWelcome', 'true']];
      const remote = (p: string) => `vscode-remote://${host}:${port}${p}`;
      if (extensionDevelopmentPath) payload.push(['extensionDevelopmentPath', remote(extensionDevelopmentPath)]);
      if (extensionTestsPath) payload.push(['extensionTestsPath', remote(extensionTestsPath)]);
      return `${base}/?folder=${encodeURIComponent(folder ?? opts.workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
    },
  };
}

export async function launchBrowser() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}
