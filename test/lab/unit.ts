// One lab unit: its own mount, UTS and PID namespace (PID 1 = unit-init.sh), an sshd on its loopback
// address, real /var/phion paths backed by a plain host folder, and (when active) the gateway simulator.
//
// <stateDir>/units/<name>/
//   phion/            backs /var/phion: spool/mgw/<server>_<service>/{spool,vscan,input}, logs/
//   root/             backs /root (.ssh/id_ed25519 = lab key, .ssh/known_hosts = the other unit)
//   etc/{passwd,shadow,group}   bind-mounted over /etc/... (adds the password account)
//   var-upper/ var-work/        overlay layers over /var (so /var/phion needs nothing on the host)
//   opt/              backs /opt: the box's control files when a test gives it some (Lab.setBoxControl)
//   sink/delivered.jsonl        one JSON line per delivered mail
//   ssh_host_ed25519_key (ssh_host_rsa_key: legacy, dropbear_ed25519_host_key: dropbear)
//   init.conf (what unit-init.sh starts), sshd_config, sshd.log, init.log, gateway.json, gateway.out
//   busybox-bin/                the minimal profile's layer over /usr/bin (test/lab/busybox.ts)
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { childrenOf, innerPid, isListening, isSame, pidNamespace, Proc, procInfo, processesIn, signalIfSame } from './procfs';
import { BOX_TIME_ZONE, Profile, PROFILES } from './profiles';
import { waitFor } from './wait';

export type Role = 'primary' | 'secondary';
export type Folder = 'spool' | 'vscan' | 'input' | 'logs' | 'sink' | 'phion' | 'opt';

export interface UnitConfig {
  name: string;
  role: Role;
  address: string;
  port: number;
  stateDir: string;
  server: string;
  service: string;
  deliveryDelayMs: number;
  scanDelayMs: number;
  rotateEverySec: number;
  sync?: { delayMs: number; partnerAddress: string; keyFile: string; knownHostsFile: string; partitionFile: string };
  /** The box profile (default: PROFILES.default). */
  profile?: Profile;
  /** box-log: the unit's time zone (IANA name; default BOX_TIME_ZONE). */
  timeZone?: string;
}

/** What `down` needs to stop a unit started by another process: PIDs with their start times. */
export interface UnitRecord {
  unsharePid: number;
  unshareStart: number;
  initPid: number;
  initStart: number;
  pidns: string;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  input?: string | Buffer;
  timeoutMs?: number;
}

// From REPO_ROOT, not __dirname, so the lab also works when bundled into the VS Code test suite (out/suite).
const LAB_SRC = path.join(path.resolve(__dirname, '..', '..'), 'test', 'lab');
const INIT = path.join(LAB_SRC, 'unit-init.sh');
const SIM = path.join(LAB_SRC, 'gateway-sim.js');
/** The environment of everything started inside a unit (nothing of the caller's leaks in). */
export const UNIT_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', LANG: 'C.UTF-8', USER: 'root' };

export class Unit {
  record: UnitRecord | undefined;

  constructor(
    readonly cfg: UnitConfig,
    record?: UnitRecord,
  ) {
    this.record = record;
  }

  get name(): string {
    return this.cfg.name;
  }
  get profile(): Profile {
    return this.cfg.profile ?? PROFILES.default;
  }
  /** box-log: the unit's local time zone; otherwise undefined (the unit runs in UTC, as the host). */
  get timeZone(): string | undefined {
    return this.profile.boxLog ? (this.cfg.timeZone ?? BOX_TIME_ZONE) : undefined;
  }
  /** The environment of everything started inside this unit (UNIT_ENV, plus TZ on box-log units). */
  get env(): Record<string, string> {
    const tz = this.timeZone;
    return tz ? { ...UNIT_ENV, TZ: tz } : { ...UNIT_ENV };
  }
  /** Process name (comm) of the unit's SSH server and of its per-connection processes. */
  get serverComm(): string {
    return this.profile.server === 'dropbear' ? 'dropbear' : 'sshd';
  }
  /** The minimal profile's BusyBox layer (stacked over /usr/bin inside the unit). */
  get busyboxLayer(): string {
    return path.join(this.dir, 'busybox-bin');
  }
  get dir(): string {
    return path.join(this.cfg.stateDir, 'units', this.cfg.name);
  }
  /** "<server>_<service>" */
  get gatewayName(): string {
    return `${this.cfg.server}_${this.cfg.service}`;
  }
  /** The gateway's process name as Linux shows it (comm is cut to 15 characters). */
  get processName(): string {
    return this.gatewayName.slice(0, 15);
  }
  /** Path inside the unit of the spool folder holding spool/, vscan/ and input/. */
  get spoolDir(): string {
    return `/var/phion/spool/mgw/${this.gatewayName}`;
  }
  /**
   * Path inside the unit of the current gateway log: `srv_<server>_<service>.log`, or on box-log units
   * the `_mailgw` sub-log `srv_<server>_<service>_mailgw.log` (as the box's log tree would name it).
   */
  get logFile(): string {
    return `/var/phion/logs/srv_${this.gatewayName}${this.profile.boxLog ? '_mailgw' : ''}.log`;
  }
  /** The unit's host key (private half; `.pub` beside it in OpenSSH form). */
  get hostKey(): string {
    if (this.profile.server === 'dropbear') return path.join(this.dir, 'dropbear_ed25519_host_key');
    return path.join(this.dir, `ssh_host_${this.profile.hostKeyType}_key`);
  }
  get pauseFile(): string {
    return path.join(this.dir, 'delivery-paused');
  }

  /** The plain host folder backing a folder of the unit. */
  hostPath(folder: Folder): string {
    const phion = path.join(this.dir, 'phion');
    switch (folder) {
      case 'phion':
        return phion;
      case 'logs':
        return path.join(phion, 'logs');
      case 'sink':
        return path.join(this.dir, 'sink');
      case 'opt':
        return path.join(this.dir, 'opt');
      default:
        return path.join(phion, 'spool', 'mgw', this.gatewayName, folder);
    }
  }

  /** Host path of the current gateway log. */
  get hostLogFile(): string {
    return path.join(this.hostPath('logs'), path.basename(this.logFile));
  }
  get sinkFile(): string {
    return path.join(this.hostPath('sink'), 'delivered.jsonl');
  }

  /** Fresh folders (spool, logs, sink, overlay layers, /root); keys are kept. */
  prepareFolders(): void {
    for (const d of ['phion', 'sink', 'var-upper', 'var-work', 'root', 'etc', 'opt']) fs.rmSync(path.join(this.dir, d), { recursive: true, force: true });
    for (const f of ['init.log', 'sshd.log', 'gateway.out', 'gateway.ready', 'delivery-paused', 'init.conf', 'busybox-layer.json']) fs.rmSync(path.join(this.dir, f), { force: true });
    fs.rmSync(this.busyboxLayer, { recursive: true, force: true });
    for (const f of ['spool', 'vscan', 'input', 'logs', 'sink'] as const) fs.mkdirSync(this.hostPath(f), { recursive: true });
    for (const d of ['var-upper', 'var-work', 'etc', 'opt']) fs.mkdirSync(path.join(this.dir, d), { recursive: true });
    fs.mkdirSync(path.join(this.dir, 'root', '.ssh'), { recursive: true, mode: 0o700 });
    fs.chmodSync(path.join(this.dir, 'root'), 0o700);
  }

  /**
   * init.conf, read by unit-init.sh: which SSH server it starts and how, and the BusyBox layer it
   * stacks over /usr/bin (empty: none). Shell assignments of single-quoted values.
   */
  writeInitConf(): void {
    const q = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;
    const lines = [
      '# written by test/lab/unit.ts (lab profile ' + this.profile.name + '); read by unit-init.sh',
      `ssh_server=${q(this.profile.server)}`,
      `listen=${q(`${this.cfg.address}:${this.cfg.port}`)}`,
      `host_key=${q(this.hostKey)}`,
      `busybox_layer=${q(this.profile.busybox ? this.busyboxLayer : '')}`,
    ];
    fs.writeFileSync(path.join(this.dir, 'init.conf'), lines.join('\n') + '\n');
  }

  get running(): boolean {
    return this.record !== undefined && isSame(this.record.initPid, this.record.initStart);
  }

  private requireRecord(): UnitRecord {
    if (!this.record || !this.running) throw new Error(`lab unit ${this.name} is not running (run \`npm run lab -- up\`)`);
    return this.record;
  }

  private tail(file: string, lines = 15): string {
    try {
      return fs.readFileSync(path.join(this.dir, file), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(none)';
    }
  }

  /** Start the unit's namespaces and sshd; resolves once sshd listens. */
  async start(timeoutMs = 20_000): Promise<UnitRecord> {
    const out = fs.openSync(path.join(this.dir, 'init.log'), 'a');
    const child = spawn('unshare', ['--mount', '--uts', '--pid', '--fork', '--kill-child', '--mount-proc', '--propagation', 'private', INIT, this.dir, this.name], {
      detached: true,
      stdio: ['ignore', out, out],
      env: this.env,
      cwd: '/',
    });
    fs.closeSync(out);
    let spawnError: Error | undefined;
    child.on('error', (e) => (spawnError = e));
    child.unref();
    const unsharePid = await waitFor('unshare to start', () => spawnError ?? child.pid, 15_000, 5);
    if (spawnError) throw new Error(`cannot run unshare: ${spawnError.message}`);
    const hostNs = pidNamespace(process.pid);
    const init = await waitFor(`PID 1 of unit ${this.name}`, () => childrenOf(unsharePid as number).find((p) => pidNamespace(p.pid) !== hostNs), timeoutMs, 5);
    const unshare = procInfo(unsharePid as number);
    this.record = {
      unsharePid: unsharePid as number,
      unshareStart: unshare ? unshare.start : 0,
      initPid: init.pid,
      initStart: init.start,
      pidns: pidNamespace(init.pid) ?? '',
    };
    try {
      await waitFor(`sshd of unit ${this.name} to listen on ${this.cfg.address}:${this.cfg.port}`, () => {
        if (!this.running) throw new Error('the unit exited');
        return isListening(this.cfg.address, this.cfg.port);
      }, timeoutMs, 10);
    } catch (e) {
      throw new Error(`${(e as Error).message}\n--- ${this.dir}/init.log:\n${this.tail('init.log')}\n--- sshd.log:\n${this.tail('sshd.log')}`);
    }
    return this.record;
  }

  /** Kill the unit (SIGKILL to its PID 1, which takes every process of its PID namespace with it). */
  async stop(timeoutMs = 20_000): Promise<void> {
    const r = this.record;
    if (!r) return;
    // Only PID 1 first: unshare reaps it at once and exits by itself. (Killing unshare too would
    // hand PID 1 to the host's init to reap, which can take a while in some containers.)
    signalIfSame(r.initPid, r.initStart, 'SIGKILL');
    const gone = (pid: number, start: number) => {
      const p = procInfo(pid);
      return !p || p.start !== start || p.state === 'Z';
    };
    const ended = () => gone(r.unsharePid, r.unshareStart) && gone(r.initPid, r.initStart) && processesIn(r.pidns).length === 0;
    try {
      await waitFor(`unit ${this.name} to end`, ended, 5000);
    } catch {
      signalIfSame(r.unsharePid, r.unshareStart, 'SIGKILL');
      await waitFor(`unit ${this.name} to end (after SIGKILL to unshare ${r.unsharePid})`, ended, timeoutMs);
    }
    this.record = undefined;
  }

  private nsenter(argv: string[]): string[] {
    const r = this.requireRecord();
    return ['-t', String(r.initPid), '-m', '-u', '-p', '-r', '-w', '--', ...argv];
  }

  /** Run a command inside the unit (as root, cwd /); never rejects on a non-zero exit. */
  exec(argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const args = this.nsenter(argv);
    return new Promise((resolve, reject) => {
      const child = spawn('nsenter', args, { env: this.env, cwd: '/', stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => err.push(d));
      const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        const sig = signal ? 128 + (signalNumber(signal) ?? 0) : 0;
        resolve({ code: code ?? sig, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
      });
      child.stdin.on('error', () => undefined);
      child.stdin.end(opts.input ?? '');
    });
  }

  /** Arguments for running a command inside the unit with the caller's terminal (the CLI's `exec`). */
  nsenterArgs(argv: string[]): string[] {
    return this.nsenter(argv);
  }

  /** The listening SSH server, sshd or dropbear (child of the unit's PID 1). */
  sshd(): Proc | undefined {
    const r = this.record;
    if (!r || !this.running) return undefined;
    return childrenOf(r.initPid).find((p) => p.comm === this.serverComm);
  }

  /** Live gateway simulator processes of this unit (normally 0 or 1). */
  gateways(): Proc[] {
    const r = this.record;
    if (!r || !this.running) return [];
    return processesIn(r.pidns).filter((p) => p.comm === this.processName && p.state !== 'Z');
  }

  /** Start the simulator inside the unit, as a child of the unit's PID 1; resolves with its host PID once its signal handlers are in place. */
  async startGateway(link: string, timeoutMs = 20_000): Promise<number> {
    const existing = this.gateways()[0];
    if (existing) return existing.pid;
    const readyFile = path.join(this.dir, 'gateway.ready');
    const configFile = path.join(this.dir, 'gateway.json');
    fs.rmSync(readyFile, { force: true });
    const config = {
      unit: this.name,
      server: this.cfg.server,
      service: this.cfg.service,
      spoolDir: this.spoolDir,
      logFile: this.logFile,
      sinkFile: this.sinkFile,
      readyFile,
      pauseFile: this.pauseFile,
      deliveryDelayMs: this.cfg.deliveryDelayMs,
      scanDelayMs: this.cfg.scanDelayMs,
      rotateEverySec: this.cfg.rotateEverySec,
      tickMs: 100,
      sync: this.cfg.sync ? { ...this.cfg.sync, port: this.cfg.port, tlogFile: `${this.spoolDir}/sync.tlog`, sshOptions: this.profile.clientOptions.map((o) => o.replace(' ', '=')) } : null,
      // box-log: local time, type before offset, Notice/Security/Internal lines between the others.
      log: this.profile.boxLog ? { style: 'box', timeZone: this.timeZone, noiseEveryMs: 1000 } : { style: 'lab' },
    };
    fs.writeFileSync(configFile, JSON.stringify(config, null, 2) + '\n');
    // setsid -f forks and returns at once; the simulator's parent exits, so the unit's PID 1 adopts it.
    const r = await this.execDetached(['setsid', '-f', link, SIM, configFile]);
    if (r.code !== 0) throw new Error(`cannot start the gateway on ${this.name} (exit ${r.code}): ${r.stderr.trim()}`);
    const nsPid = await waitFor(`the gateway on ${this.name} to be ready (see ${this.dir}/gateway.out)`, () => {
      try {
        return (JSON.parse(fs.readFileSync(readyFile, 'utf8')) as { pid: number }).pid;
      } catch {
        return undefined;
      }
    }, timeoutMs, 10);
    const proc = await waitFor(`the gateway process (pid ${nsPid} in ${this.name})`, () => this.gateways().find((p) => innerPid(p.pid) === nsPid), 15_000, 10);
    return proc.pid;
  }

  /** Run a command inside the unit that leaves a process behind: its output goes to gateway.out, and only its exit is awaited (the left-behind process keeps the output open). */
  private execDetached(argv: string[]): Promise<ExecResult> {
    const outFile = path.join(this.dir, 'gateway.out');
    const out = fs.openSync(outFile, 'a');
    const args = this.nsenter(argv);
    return new Promise((resolve, reject) => {
      const child = spawn('nsenter', args, { env: this.env, cwd: '/', stdio: ['ignore', out, out] });
      fs.closeSync(out);
      child.on('error', reject);
      child.on('exit', (code) => resolve({ code: code ?? 1, stdout: '', stderr: code === 0 ? '' : this.tail('gateway.out', 5) }));
    });
  }

  /** SIGTERM every simulator of this unit (SIGKILL after `graceMs`); resolves once they are reaped. */
  async stopGateway(graceMs = 30_000): Promise<void> {
    const procs = this.gateways();
    for (const p of procs) signalIfSame(p.pid, p.start, 'SIGTERM');
    const gone = () => procs.every((p) => !isSame(p.pid, p.start));
    try {
      await waitFor(`the gateway on ${this.name} to stop`, gone, graceMs);
    } catch {
      for (const p of procs) signalIfSame(p.pid, p.start, 'SIGKILL');
      await waitFor(`the gateway on ${this.name} to die`, gone, 15_000);
    }
  }

  /** Kill every per-connection sshd process (not the listener), as a dropped connection would. */
  async killSshSessions(): Promise<number> {
    const r = this.requireRecord();
    const listener = this.sshd();
    const victims = processesIn(r.pidns).filter((p) => p.comm === this.serverComm && p.pid !== listener?.pid);
    for (const p of victims) signalIfSame(p.pid, p.start, 'SIGKILL');
    await waitFor(`ssh sessions of ${this.name} to end`, () => victims.every((p) => !isSame(p.pid, p.start)), 15_000);
    return victims.length;
  }

  /** Send a signal to the unit's gateway (host side). Returns the host PID signalled. */
  signalGateway(signal: NodeJS.Signals): number {
    const g = this.gateways()[0];
    if (!g || !signalIfSame(g.pid, g.start, signal)) throw new Error(`the gateway is not running on ${this.name}`);
    return g.pid;
  }
}

function signalNumber(signal: NodeJS.Signals): number | undefined {
  const n = os.constants.signals[signal];
  return typeof n === 'number' ? n : undefined;
}
