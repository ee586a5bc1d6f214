// The simulated HA pair: two units (fw-a primary, fw-b secondary), each a real sshd in its own mount
// and PID namespace on a loopback address, with real /var/phion paths and a gateway simulator on the
// active unit. Used by the CLI (test/lab/cli.ts) and the integration tests (test/integration/hooks.ts).
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import * as zlib from 'zlib';
import { countMails, makeMail, Parts, transactionKey, transactionOf, writeMail } from './mail';
import { innerPid, isListening, mountsMentioning, procInfo, processesMentioning, signalIfSame, wildcardListener } from './procfs';
import { writeBusyboxLayer } from './busybox';
import { BOX_TIME_ZONE, checkTimeZone, Profile, ProfileName, profileOf, zonedStamp } from './profiles';
import { accountFiles, ensureDropbearKey, ensureKey, knownHostsName, newPassword, passwordHash, publicKey, sshConfig, sshdConfig } from './sshd';
import { strand, StrandManifest, StrandOptions } from './strand';
import { ExecOptions, ExecResult, Folder, Role, Unit, UnitRecord } from './unit';
import { waitFor } from './wait';

export type { ExecResult, Folder, Profile, ProfileName, Role, StrandManifest, StrandOptions };
export type UnitRef = 'primary' | 'secondary' | 'fw-a' | 'fw-b';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
/** Default state folder: $MAILGW_LAB_DIR or <repo>/.lab */
export const DEFAULT_STATE_DIR = process.env.MAILGW_LAB_DIR ? path.resolve(process.env.MAILGW_LAB_DIR) : path.join(REPO_ROOT, '.lab');

/**
 * A lab's two addresses from an environment variable ("127.0.1.2,127.0.1.3"), so that several labs
 * (tests, host suites, benchmarks) can run side by side; `fallback` when it is not set.
 */
export function addressesFromEnv(variable: string, fallback: [string, string]): [string, string] {
  const env = process.env[variable]?.split(',').map((a) => a.trim());
  return env?.length === 2 ? [env[0], env[1]] : fallback;
}

/**
 * The loopback address 127.<net>.0.<last>, where <net> is $MAILGW_LAB_NET (default 0): every lab of a
 * checkout (integration, side labs, host suites, benchmarks) takes its addresses from here, so two
 * checkouts with different MAILGW_LAB_NET run their suites at the same time without meeting.
 */
export function labAddress(last: number): string {
  const net = Number(process.env.MAILGW_LAB_NET ?? '0');
  if (!Number.isInteger(net) || net < 0 || net > 255) throw new Error(`MAILGW_LAB_NET must be a whole number 0..255, not ${JSON.stringify(process.env.MAILGW_LAB_NET)}`);
  return `127.${net}.0.${last}`;
}

/** Two lab addresses 127.<net>.0.<first> and .<first+1>. */
export function labPair(first: number): [string, string] {
  return [labAddress(first), labAddress(first + 1)];
}

function defaultAddresses(): [string, string] {
  return addressesFromEnv('MAILGW_LAB_ADDRESSES', labPair(2));
}

export interface LabOptions {
  stateDir?: string;
  server?: string;
  service?: string;
  /** Loopback addresses of fw-a (primary) and fw-b (secondary). */
  addresses?: [string, string];
  /** SSH port of both units; default 22, or a free port if something listens on 22 of all addresses. */
  port?: number;
  deliveryDelayMs?: number;
  scanDelayMs?: number;
  rotateEverySec?: number;
  /**
   * HA sync: the active unit mirrors each spooled mail to its partner within this many ms (over the
   * lab's SSH) and removes the partner's copy when it delivers. Off when undefined.
   */
  syncDelayMs?: number;
  /** Box profile (test/lab/profiles.ts): default, legacy, dropbear, minimal, box-log. */
  profile?: ProfileName | string;
  /** box-log: the units' time zone (IANA name; default Europe/Vienna). */
  timeZone?: string;
  /**
   * Whether settings.json names the cluster's logFile (default true). False: it is left out, so the
   * extension must find the log itself (on box-log its name is not the default one).
   */
  logFileSetting?: boolean;
  /**
   * Whether settings.json gives each unit the `algorithms` its profile needs (legacy; default true).
   * False: left out, so the product must say what each side offered and what to set.
   */
  algorithmsSetting?: boolean;
}

interface ResolvedOptions {
  stateDir: string;
  server: string;
  service: string;
  addresses: [string, string];
  port: number | undefined;
  deliveryDelayMs: number;
  scanDelayMs: number;
  rotateEverySec: number;
  syncDelayMs?: number;
  profile: ProfileName;
  timeZone?: string;
  logFileSetting: boolean;
  algorithmsSetting?: boolean;
}

interface StateFile {
  version: 1;
  options: ResolvedOptions & { port: number };
  units: Record<string, UnitRecord>;
  upAt: string;
  upMs: number;
}

export interface UnitInfo {
  name: 'fw-a' | 'fw-b';
  role: Role;
  address: string;
}

export interface UnitStatus extends UnitInfo {
  port: number;
  running: boolean;
  initPid: number | null;
  sshdPid: number | null;
  /** Host PID of the gateway simulator, and its PID inside the unit (what pgrep shows there). */
  gateway: { pid: number; unitPid: number } | null;
  active: boolean;
  counts: Record<'spool' | 'vscan' | 'input', number>;
  incomplete: Record<'spool' | 'vscan' | 'input', number>;
}

export interface Deliveries {
  byMessageId: Record<string, number>;
  /** Per transaction (transactionOf: envelope and content, what the recipients see): how many times delivered. */
  byTransaction: Record<string, number>;
  total: number;
  /** Message-IDs delivered more than once. */
  duplicated: string[];
  /** Transactions delivered more than once. */
  duplicatedTransactions: string[];
}

export interface PutMailOptions {
  parts?: Parts;
  sizeBytes?: number;
  mtime?: Date;
  id?: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9-]*$/;

export class Lab {
  readonly stateDir: string;
  readonly server: string;
  readonly service: string;
  readonly addresses: [string, string];
  readonly deliveryDelayMs: number;
  readonly scanDelayMs: number;
  readonly rotateEverySec: number;
  readonly syncDelayMs: number | undefined;
  readonly profile: Profile;
  /** box-log: the units' time zone; undefined on other profiles. */
  readonly timeZone: string | undefined;
  readonly logFileSetting: boolean;
  readonly algorithmsSetting: boolean;
  /** How long the last up() took (ms). */
  lastUpMs: number | undefined;
  private portValue: number | undefined;
  private unitObjs: Unit[] | undefined;

  constructor(options: LabOptions = {}) {
    this.stateDir = path.resolve(options.stateDir ?? DEFAULT_STATE_DIR);
    this.server = options.server ?? 'box1';
    this.service = options.service ?? 'mailgw';
    this.addresses = options.addresses ?? defaultAddresses();
    this.portValue = options.port;
    this.deliveryDelayMs = options.deliveryDelayMs ?? 1500;
    this.scanDelayMs = options.scanDelayMs ?? 1000;
    this.rotateEverySec = options.rotateEverySec ?? 14400;
    this.syncDelayMs = options.syncDelayMs;
    this.profile = profileOf(options.profile);
    this.timeZone = this.profile.boxLog ? checkTimeZone(options.timeZone ?? BOX_TIME_ZONE) : undefined;
    if (options.timeZone !== undefined && !this.profile.boxLog) throw new Error(`lab: a time zone is only for the box-log profile (this is ${this.profile.name})`);
    this.logFileSetting = options.logFileSetting ?? true;
    this.algorithmsSetting = options.algorithmsSetting ?? true;
    for (const [what, v] of [['server', this.server], ['service', this.service]]) {
      if (!NAME.test(v)) throw new Error(`lab: ${what} "${v}" must be letters, digits and "-" (not starting with "-")`);
    }
    for (const a of this.addresses) if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a)) throw new Error(`lab: address ${a} must be a 127.x.y.z loopback address`);
    if (this.addresses[0] === this.addresses[1]) throw new Error('lab: the two units need different addresses');
  }

  /** A Lab for the lab that is up in `stateDir` (as written by up()). */
  static attach(stateDir: string = DEFAULT_STATE_DIR): Lab {
    checkRoot();
    const state = readState(path.resolve(stateDir));
    if (!state) throw new Error(`no lab is up in ${path.resolve(stateDir)} (run \`npm run lab -- up\`)`);
    const lab = new Lab(state.options);
    lab.unitObjs = lab.makeUnits(state.options.port, state.units);
    return lab;
  }

  // ---- names and paths ------------------------------------------------------------------------

  get port(): number {
    if (this.portValue === undefined) throw new Error('lab: the port is chosen by up()');
    return this.portValue;
  }
  /** "<server>_<service>" */
  get gatewayName(): string {
    return `${this.server}_${this.service}`;
  }
  /** The gateway's process name on a unit: gatewayName cut to 15 characters. */
  get processName(): string {
    return this.gatewayName.slice(0, 15);
  }
  get units(): UnitInfo[] {
    return [
      { name: 'fw-a', role: 'primary', address: this.addresses[0] },
      { name: 'fw-b', role: 'secondary', address: this.addresses[1] },
    ];
  }
  get settingsPath(): string {
    return path.join(this.stateDir, 'settings.json');
  }
  /** The folder the extension opens as its workspace (holds .vscode/settings.json). */
  get workspacePath(): string {
    return path.join(this.stateDir, 'workspace');
  }
  get knownHostsPath(): string {
    return path.join(this.stateDir, 'known_hosts');
  }
  get keyPath(): string {
    return path.join(this.stateDir, 'id_ed25519');
  }
  get sshConfigPath(): string {
    return path.join(this.stateDir, 'ssh_config');
  }
  /** Password of the `mgwadmin` account (password authentication) on both units. */
  get password(): string {
    return fs.readFileSync(path.join(this.stateDir, 'password'), 'utf8').trim();
  }
  /** Path, inside a unit, of the folder holding spool/, vscan/ and input/. */
  get spoolDir(): string {
    return `/var/phion/spool/mgw/${this.gatewayName}`;
  }
  /** Path, inside a unit, of the current gateway log (box-log: the `_mailgw` sub-log). */
  get logFile(): string {
    return `/var/phion/logs/srv_${this.gatewayName}${this.profile.boxLog ? '_mailgw' : ''}.log`;
  }
  private get linkPath(): string {
    return path.join(this.stateDir, 'bin', this.gatewayName);
  }

  /**
   * Arguments for the system `ssh` client to reach a unit with the lab key, checking its host key
   * against knownHostsPath, never prompting: `spawn('ssh', [...lab.sshArgs('primary'), 'ls'])`.
   */
  sshArgs(ref: UnitRef | string, user = 'root'): string[] {
    const u = this.unit(ref);
    return [
      '-F', 'none',
      '-i', this.keyPath,
      '-o', 'IdentitiesOnly=yes',
      '-o', `UserKnownHostsFile=${this.knownHostsPath}`,
      '-o', 'GlobalKnownHostsFile=/dev/null',
      '-o', 'StrictHostKeyChecking=yes',
      '-o', 'BatchMode=yes',
      ...this.sshOptions,
      '-p', String(this.port),
      `${user}@${u.address}`,
    ];
  }

  /** `-o Keyword=value` pairs the profile needs in every OpenSSH client of the lab (legacy: old algorithms). */
  get sshOptions(): string[] {
    return this.profile.clientOptions.flatMap((o) => ['-o', o.replace(' ', '=')]);
  }

  unit(ref: UnitRef | string): UnitInfo {
    const u = this.units.find((x) => x.name === ref || x.role === ref);
    if (!u) throw new Error(`lab: unknown unit "${ref}" (use primary, secondary, fw-a or fw-b)`);
    return u;
  }

  /** The plain host folder backing a unit's /var/phion/... folder (or its delivery sink). */
  hostPath(ref: UnitRef | string, folder: Folder): string {
    return this.u(ref).hostPath(folder);
  }
  /** Host path of a unit's current gateway log. */
  /**
   * Gives a unit the box's HA control as the box has it (docs/box-facts.md): the first line of
   * /opt/phion/run/server.ctrl and what `/opt/phion/bin/phionctrl server show` prints (a script
   * printing exactly `phionctrl`). Undefined leaves that one out; reset() removes both.
   */
  setBoxControl(ref: UnitRef | string, control: { serverCtrl?: string; phionctrl?: string }): void {
    const opt = this.running(ref).hostPath('opt');
    const run = path.join(opt, 'phion', 'run');
    const bin = path.join(opt, 'phion', 'bin');
    fs.rmSync(path.join(opt, 'phion'), { recursive: true, force: true });
    if (control.serverCtrl !== undefined) {
      fs.mkdirSync(run, { recursive: true });
      fs.writeFileSync(path.join(run, 'server.ctrl'), `${control.serverCtrl}\n`);
    }
    if (control.phionctrl !== undefined) {
      fs.mkdirSync(bin, { recursive: true });
      const out = control.phionctrl.replace(/'/g, `'\\''`);
      fs.writeFileSync(path.join(bin, 'phionctrl'), `#!/bin/sh\n[ "$1 $2" = "server show" ] || exit 2\nprintf '%s\\n' '${out}'\n`, { mode: 0o755 });
    }
  }

  hostLogFile(ref: UnitRef | string): string {
    return this.u(ref).hostLogFile;
  }

  private makeUnits(port: number, records: Record<string, UnitRecord> = {}): Unit[] {
    return this.units.map(
      (u) =>
        new Unit(
          {
            name: u.name,
            role: u.role,
            address: u.address,
            port,
            stateDir: this.stateDir,
            server: this.server,
            service: this.service,
            deliveryDelayMs: this.deliveryDelayMs,
            scanDelayMs: this.scanDelayMs,
            rotateEverySec: this.rotateEverySec,
            profile: this.profile,
            timeZone: this.timeZone,
            sync:
              this.syncDelayMs === undefined
                ? undefined
                : {
                    delayMs: this.syncDelayMs,
                    partnerAddress: this.units.find((x) => x.name !== u.name)!.address,
                    keyFile: this.keyPath,
                    knownHostsFile: this.knownHostsPath,
                    partitionFile: path.join(this.stateDir, 'sync-partitioned'),
                  },
          },
          records[u.name],
        ),
    );
  }

  private u(ref: UnitRef | string): Unit {
    const info = this.unit(ref);
    if (!this.unitObjs) this.unitObjs = this.makeUnits(this.portValue ?? 22);
    return this.unitObjs.find((x) => x.name === info.name) as Unit;
  }

  private running(ref: UnitRef | string): Unit {
    const u = this.u(ref);
    if (!u.running) throw new Error(`lab unit ${u.name} in ${this.stateDir} is not up (run \`npm run lab -- up\`)`);
    return u;
  }

  // ---- life cycle -----------------------------------------------------------------------------

  /** Start a fresh lab (stopping a previous one in the same stateDir first; keys are reused). */
  async up(): Promise<void> {
    const t0 = Date.now();
    checkRoot();
    for (const p of [this.stateDir, REPO_ROOT]) {
      if (/^\/(root|var)(\/|$)/.test(p)) throw new Error(`lab: ${p} must not be under /root or /var: the units mount private copies over those folders`);
    }
    if (readState(this.stateDir)) await Lab.attach(this.stateDir).down();
    await this.down();
    const port = this.portValue ?? (wildcardListener(22) ? await freePort(this.addresses) : 22);
    for (const a of this.addresses) {
      if (isListening(a, port)) throw new Error(`lab: ${a}:${port} is already in use (another lab? stop it with \`npm run lab -- down\` in its folder)`);
    }
    this.portValue = port;
    // A new lab starts healed: a partition of an earlier lab in this folder does not carry over.
    this.heal();
    const units = (this.unitObjs = this.makeUnits(port));
    this.writeFiles(units);
    for (const u of units) seedLogHistory(u);
    const records: Record<string, UnitRecord> = {};
    try {
      await Promise.all(units.map(async (u) => (records[u.name] = await u.start())));
      this.saveState(records, t0);
      await units[0].startGateway(this.linkPath);
    } catch (e) {
      await Promise.allSettled(units.map((u) => u.stop()));
      fs.rmSync(path.join(this.stateDir, 'state.json'), { force: true });
      throw e;
    }
    this.lastUpMs = Date.now() - t0;
    this.saveState(records, t0);
  }

  /**
   * Stop both units (by recorded PID) and check that nothing is left: no process whose command line
   * mentions the state folder, no mount mentioning it in any mount namespace.
   */
  async down(): Promise<void> {
    const state = readState(this.stateDir);
    const units = state ? this.makeUnits(state.options.port, state.units) : (this.unitObjs ?? []);
    await Promise.all(units.map((u) => u.stop()));
    this.unitObjs?.forEach((u) => (u.record = undefined));
    fs.rmSync(path.join(this.stateDir, 'state.json'), { force: true });
    // Lab-made processes name a unit folder or the simulator link on their command line. Others
    // that merely mention the state folder (an editor opened on its workspace) are not ours.
    const ours = () => [path.join(this.stateDir, 'units') + path.sep, path.join(this.stateDir, 'bin') + path.sep].flatMap(processesMentioning);
    const strays = ours();
    if (strays.length > 0) {
      // Left by a lab whose state.json was lost: stop them by PID.
      console.warn(`lab down: stopping ${strays.length} stray lab process(es): ${strays.map((p) => p.pid).join(', ')}`);
      for (const p of strays) {
        const info = procInfo(p.pid);
        if (info) signalIfSame(p.pid, info.start, 'SIGKILL');
      }
    }
    const left = await waitFor('lab processes to end', () => (ours().length === 0 ? [] : undefined), 15_000).catch(() => ours());
    // Every mount a unit makes names its unit folder (bind sources, overlay layers).
    const mounts = mountsMentioning(path.join(this.stateDir, 'units') + path.sep);
    if (left.length > 0 || mounts.length > 0) {
      throw new Error(`lab down: left behind in ${this.stateDir}:\n` + [...left.map((p) => `process ${p.pid}: ${p.cmdline}`), ...mounts.map((m) => `mount ${m}`)].join('\n'));
    }
  }

  /** Last resort for a process that is exiting: SIGKILL the units recorded in state.json without waiting. */
  killSync(): void {
    const state = readState(this.stateDir);
    if (!state) return;
    for (const r of Object.values(state.units)) {
      signalIfSame(r.initPid, r.initStart, 'SIGKILL');
      signalIfSame(r.unsharePid, r.unshareStart, 'SIGKILL');
    }
    fs.rmSync(path.join(this.stateDir, 'state.json'), { force: true });
  }

  private saveState(records: Record<string, UnitRecord>, t0: number): void {
    const state: StateFile = {
      version: 1,
      options: {
        stateDir: this.stateDir,
        server: this.server,
        service: this.service,
        addresses: this.addresses,
        port: this.port,
        deliveryDelayMs: this.deliveryDelayMs,
        scanDelayMs: this.scanDelayMs,
        rotateEverySec: this.rotateEverySec,
        syncDelayMs: this.syncDelayMs,
        profile: this.profile.name,
        timeZone: this.timeZone,
        logFileSetting: this.logFileSetting,
        algorithmsSetting: this.algorithmsSetting,
      },
      units: records,
      upAt: new Date(t0).toISOString(),
      upMs: Date.now() - t0,
    };
    fs.writeFileSync(path.join(this.stateDir, 'state.json'), JSON.stringify(state, null, 2) + '\n');
  }

  /** Keys, account files, sshd configs, known_hosts, ssh_config, settings, simulator link. */
  private writeFiles(units: Unit[]): void {
    const dir = this.stateDir;
    fs.mkdirSync(path.join(dir, 'bin'), { recursive: true });
    fs.chmodSync(dir, 0o755);
    ensureKey(this.keyPath, 'mailgw-ha lab client');
    const pwFile = path.join(dir, 'password');
    if (!fs.existsSync(pwFile)) fs.writeFileSync(pwFile, newPassword() + '\n', { mode: 0o600 });
    // Minimal units: root (and mgwadmin) log in to BusyBox's sh, as on a BusyBox box.
    const accounts = accountFiles(passwordHash(this.password), this.profile.busybox ? '/bin/sh' : '/bin/bash');
    const authorizedKeys = path.join(dir, 'authorized_keys');
    fs.writeFileSync(authorizedKeys, publicKey(this.keyPath) + ' mailgw-ha-lab\n', { mode: 0o600 });
    const hostLine = (u: Unit) => `${knownHostsName(u.cfg.address, this.port)} ${publicKey(u.hostKey)}\n`;

    for (const u of units) {
      u.prepareFolders();
      fs.mkdirSync(u.dir, { recursive: true });
      if (this.profile.server === 'dropbear') {
        ensureDropbearKey(u.hostKey);
        // Dropbear reads ~/.ssh/authorized_keys only (no AuthorizedKeysFile), and checks its modes.
        fs.writeFileSync(path.join(u.dir, 'root', '.ssh', 'authorized_keys'), publicKey(this.keyPath) + ' mailgw-ha-lab\n', { mode: 0o600 });
      } else {
        ensureKey(u.hostKey, `mailgw-ha lab ${u.name}`, this.profile.hostKeyType);
        fs.writeFileSync(path.join(u.dir, 'sshd_config'), sshdConfig({ address: u.cfg.address, port: this.port, hostKey: u.hostKey, authorizedKeys, extra: this.profile.sshdExtra }));
      }
      if (this.profile.busybox) writeBusyboxLayer(u.busyboxLayer);
      u.writeInitConf();
      for (const f of ['passwd', 'group'] as const) fs.writeFileSync(path.join(u.dir, 'etc', f), accounts[f], { mode: 0o644 });
      fs.writeFileSync(path.join(u.dir, 'etc', 'shadow'), accounts.shadow, { mode: 0o640 });
    }
    for (const u of units) {
      // /root/.ssh of a unit: the lab key, and the other unit's host key, so that `scp` from one
      // unit to the other works as on a real pair.
      const other = units.find((x) => x !== u) as Unit;
      const ssh = path.join(u.dir, 'root', '.ssh');
      fs.copyFileSync(this.keyPath, path.join(ssh, 'id_ed25519'));
      fs.chmodSync(path.join(ssh, 'id_ed25519'), 0o600);
      fs.copyFileSync(`${this.keyPath}.pub`, path.join(ssh, 'id_ed25519.pub'));
      fs.writeFileSync(path.join(ssh, 'known_hosts'), hostLine(other));
      // The other unit's port, and what the profile's sshd needs a client to offer (legacy: old algorithms).
      const config = [...(this.port !== 22 ? [`Port ${this.port}`] : []), ...this.profile.clientOptions];
      if (config.length > 0) fs.writeFileSync(path.join(ssh, 'config'), `Host ${other.cfg.address}\n${config.map((c) => `  ${c}\n`).join('')}`);
    }
    fs.writeFileSync(this.knownHostsPath, units.map(hostLine).join(''));
    fs.writeFileSync(
      this.sshConfigPath,
      sshConfig(units.map((u) => ({ alias: `lab-${u.cfg.role}`, address: u.cfg.address, port: this.port, identityFile: this.keyPath, knownHostsFile: this.knownHostsPath, options: this.profile.clientOptions }))),
    );
    const settings = JSON.stringify(this.settings(), null, 2) + '\n';
    fs.writeFileSync(this.settingsPath, settings);
    fs.mkdirSync(path.join(this.workspacePath, '.vscode'), { recursive: true });
    // The workspace gets what a workspace may set; the known_hosts file is a machine-scoped setting,
    // so it goes to the user settings of the VS Code that opens this workspace (test/host/codeServer.ts).
    const { 'mailgwHa.knownHostsFile': knownHostsFile, ...workspaceSettings } = this.settings();
    fs.writeFileSync(path.join(this.workspacePath, '.vscode', 'settings.json'), JSON.stringify(workspaceSettings, null, 2) + '\n');
    fs.writeFileSync(path.join(this.stateDir, 'user-settings.json'), JSON.stringify({ 'mailgwHa.knownHostsFile': knownHostsFile }, null, 2) + '\n');
    fs.rmSync(this.linkPath, { force: true });
    fs.symlinkSync(process.execPath, this.linkPath);
  }

  /** The extension settings for this lab (also written to settingsPath). */
  settings(): Record<string, unknown> {
    return {
      'mailgwHa.clusters': [
        {
          name: 'lab',
          server: this.server,
          service: this.service,
          // box-log: the log is not at the default path; named here unless the lab is to leave finding it to the extension.
          ...(this.profile.boxLog && this.logFileSetting ? { logFile: this.logFile } : {}),
          units: this.units.map((u) => ({ name: u.name, role: u.role, host: u.address, port: this.port, username: 'root', identityFile: this.keyPath, ...(this.profile.unitAlgorithms && this.algorithmsSetting ? { algorithms: this.profile.unitAlgorithms } : {}) })),
        },
      ],
      'mailgwHa.knownHostsFile': this.knownHostsPath,
      'mailgwHa.syncTransactionLog': `/var/phion/spool/mgw/${this.gatewayName}/sync.tlog`,
    };
  }

  // ---- state ----------------------------------------------------------------------------------

  status(): UnitStatus[] {
    return this.units.map((info) => {
      const u = this.u(info.name);
      const running = u.running;
      const g = running ? u.gateways()[0] : undefined;
      const counts = { spool: 0, vscan: 0, input: 0 };
      const incomplete = { spool: 0, vscan: 0, input: 0 };
      for (const f of ['spool', 'vscan', 'input'] as const) {
        const c = countMails(u.hostPath(f));
        counts[f] = c.complete;
        incomplete[f] = c.incomplete;
      }
      const unitPid = g ? innerPid(g.pid) : null;
      return {
        ...info,
        port: this.portValue ?? 22,
        running,
        initPid: running && u.record ? u.record.initPid : null,
        sshdPid: u.sshd()?.pid ?? null,
        gateway: g && unitPid !== null ? { pid: g.pid, unitPid } : null,
        active: g !== undefined,
        counts,
        incomplete,
      };
    });
  }

  /**
   * What a failing test's output should show about the lab: per unit whether it runs, the gateway,
   * mails per folder, pause and partition flags, pending sync actions and the last lines of its
   * log; and the deliveries seen more than once. Never throws (it runs while something is broken).
   */
  diagnostics(logLines = 12): string {
    const out: string[] = [`lab ${this.stateDir} (${this.addresses.join(', ')})${this.partitioned ? ', sync PARTITIONED' : ''}`];
    try {
      for (const s of this.status()) {
        const unit = this.u(s.name);
        const folders = (['spool', 'vscan', 'input'] as const).map((f) => `${f} ${s.counts[f]}${s.incomplete[f] ? `+${s.incomplete[f]} incomplete` : ''}`).join(', ');
        const tlog = path.join(path.dirname(unit.hostPath('spool')), 'sync.tlog');
        const pending = fs.existsSync(tlog) ? fs.readFileSync(tlog, 'utf8').split('\n').filter((l) => l.trim()).length : 0;
        out.push(`  ${s.name} ${s.role} ${s.address}: ${s.running ? 'up' : 'DOWN'}, gateway ${s.gateway ? `pid ${s.gateway.unitPid} (host ${s.gateway.pid})` : 'not running'}${fs.existsSync(unit.pauseFile) ? ', delivery PAUSED' : ''}; ${folders}; sync actions pending ${pending}`);
        for (const line of this.logLines(s.name).slice(-logLines)) out.push(`    | ${line}`);
      }
      const d = this.deliveries();
      out.push(`  deliveries: ${d.total}${d.duplicatedTransactions.length ? `, TRANSACTIONS DELIVERED MORE THAN ONCE: ${d.duplicatedTransactions.join(' ')}` : ''}${d.duplicated.length ? ` (Message-IDs seen more than once: ${d.duplicated.join(' ')})` : ''}`);
    } catch (err) {
      out.push(`  (lab state unreadable: ${err instanceof Error ? err.message : String(err)})`);
    }
    return out.join('\n');
  }

  /** The unit whose gateway runs, if exactly one does. */
  activeUnit(): UnitInfo | undefined {
    const active = this.status().filter((s) => s.active);
    return active.length === 1 ? this.unit(active[0].name) : undefined;
  }

  /** Host PID of the gateway simulator on a unit, or null. */
  gatewayPid(ref: UnitRef | string): number | null {
    return this.u(ref).gateways()[0]?.pid ?? null;
  }

  strand(opts: StrandOptions = {}): StrandManifest {
    return strand({ secondarySpool: this.hostPath('secondary', 'spool'), secondaryVscan: this.hostPath('secondary', 'vscan'), primarySpool: this.hostPath('primary', 'spool') }, opts);
  }

  /** Write one generated mail into a unit's folder (through the host folder). */
  putMail(ref: UnitRef | string, folder: 'spool' | 'vscan' | 'input', opts: PutMailOptions = {}): { id: string; messageId: string; transaction: string; files: string[] } {
    const mail = makeMail({ n: Math.floor(Math.random() * 1e6), tag: `put${Date.now().toString(36)}`, size: opts.sizeBytes ?? 4096, id: opts.id });
    const files = writeMail(this.hostPath(ref, folder), mail, opts.parts ?? 'both', opts.mtime ?? new Date());
    return { id: mail.id, messageId: mail.messageId, transaction: transactionOf(mail), files };
  }

  /** Deliveries recorded by both units' simulators. */
  deliveries(): Deliveries {
    const byMessageId: Record<string, number> = {};
    const byTransaction: Record<string, number> = {};
    let total = 0;
    for (const u of this.units) {
      let text = '';
      try {
        text = fs.readFileSync(this.u(u.name).sinkFile, 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n')) {
        if (!line.trim()) continue;
        const { messageId, from, to, bodySha256 } = JSON.parse(line) as { messageId: string; from: string; to: string[]; bodySha256: string };
        byMessageId[messageId] = (byMessageId[messageId] ?? 0) + 1;
        const t = transactionKey(from, to, bodySha256);
        byTransaction[t] = (byTransaction[t] ?? 0) + 1;
        total++;
      }
    }
    return {
      byMessageId,
      byTransaction,
      total,
      duplicated: Object.keys(byMessageId).filter((m) => byMessageId[m] > 1),
      duplicatedTransactions: Object.keys(byTransaction).filter((t) => byTransaction[t] > 1),
    };
  }

  /** Lines of a unit's current gateway log. */
  logLines(ref: UnitRef | string): string[] {
    try {
      return fs.readFileSync(this.hostLogFile(ref), 'utf8').split('\n').filter((l) => l !== '');
    } catch {
      return [];
    }
  }

  /** Wait until the unit's current log has at least `count` lines matching; returns them. */
  waitForLog(ref: UnitRef | string, pattern: RegExp | string, count = 1, timeoutMs = 10_000): Promise<string[]> {
    const match = (l: string) => (typeof pattern === 'string' ? l.includes(pattern) : pattern.test(l));
    return waitFor(`${count} line(s) matching ${pattern} in the log of ${this.unit(ref).name}`, () => {
      const lines = this.logLines(ref).filter(match);
      return lines.length >= count ? lines : undefined;
    }, timeoutMs);
  }

  // ---- actions --------------------------------------------------------------------------------

  exec(ref: UnitRef | string, argv: string[], opts?: ExecOptions): Promise<ExecResult> {
    return this.running(ref).exec(argv, opts);
  }

  /** nsenter arguments to run argv inside a unit (for a caller that wants its own stdio). */
  execArgs(ref: UnitRef | string, argv: string[]): string[] {
    return this.running(ref).nsenterArgs(argv);
  }

  /** The environment a command inside a unit runs with (box-log: with the unit's TZ). */
  execEnv(ref: UnitRef | string): Record<string, string> {
    return this.u(ref).env;
  }

  /** Start the simulator on a unit (no-op if it runs); resolves with its host PID once it handles signals. */
  startGateway(ref: UnitRef | string): Promise<number> {
    return this.running(ref).startGateway(this.linkPath);
  }

  stopGateway(ref: UnitRef | string): Promise<void> {
    return this.running(ref).stopGateway();
  }

  /** Kill one unit entirely (its sshd and gateway): it stays down, unreachable, until the next up(). */
  async stopUnit(ref: UnitRef | string): Promise<void> {
    const u = this.running(ref);
    await u.stop();
    // Forgotten in state.json: once its PID namespace is gone the kernel may give the same namespace
    // id to another lab's unit, which down() would otherwise wait for as if it were this one.
    const state = readState(this.stateDir);
    if (state) {
      delete state.units[u.name];
      fs.writeFileSync(path.join(this.stateDir, 'state.json'), JSON.stringify(state, null, 2) + '\n');
    }
  }

  /** HA takeover: the secondary becomes active. */
  async takeover(): Promise<void> {
    await this.stopGateway('primary');
    await this.startGateway('secondary');
  }

  /** HA takeback: the primary becomes active again. */
  async takeback(): Promise<void> {
    await this.stopGateway('secondary');
    await this.startGateway('primary');
  }

  /**
   * Rotate a unit's log (SIGHUP to its gateway, or done from outside if none runs). Returns the host
   * path of the file set aside; with `gzip`, that file is then compressed to "<name>.gz" (as
   * logrotate's compress does) and the .gz path is returned.
   */
  async rotate(ref: UnitRef | string, opts: { gzip?: boolean } = {}): Promise<string> {
    const u = this.running(ref);
    const logs = u.hostPath('logs');
    const base = path.basename(u.logFile);
    const archives = () => fs.readdirSync(logs).filter((n) => n.startsWith(`${base}.`));
    const before = new Set(archives());
    if (u.gateways().length > 0) {
      u.signalGateway('SIGHUP');
    } else {
      const d = new Date();
      const stamp = d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
      let aside = path.join(logs, `${base}.${stamp}`);
      for (let i = 2; fs.existsSync(aside); i++) aside = path.join(logs, `${base}.${stamp}-${i}`);
      if (!fs.existsSync(u.hostLogFile)) fs.writeFileSync(u.hostLogFile, '');
      fs.renameSync(u.hostLogFile, aside);
      fs.writeFileSync(u.hostLogFile, '');
    }
    const name = await waitFor(`the log of ${u.name} to be rotated`, () => archives().find((n) => !before.has(n)), 20_000);
    await waitFor(`a new log on ${u.name}`, () => fs.existsSync(u.hostLogFile), 20_000);
    const aside = path.join(logs, name);
    if (!opts.gzip) return aside;
    const st = fs.statSync(aside);
    fs.writeFileSync(`${aside}.gz.tmp`, zlib.gzipSync(fs.readFileSync(aside)));
    fs.utimesSync(`${aside}.gz.tmp`, st.atime, st.mtime);
    fs.renameSync(`${aside}.gz.tmp`, `${aside}.gz`);
    fs.rmSync(aside);
    return `${aside}.gz`;
  }

  /** Kill every per-connection sshd on a unit (not the listener): a dropped connection. Returns how many. */
  killSshSessions(ref: UnitRef | string): Promise<number> {
    return this.running(ref).killSshSessions();
  }

  /** Cut the HA sync path: every sync attempt fails (as a cut link would) and is queued in the transaction log. */
  partition(): void {
    fs.writeFileSync(path.join(this.stateDir, 'sync-partitioned'), '');
  }
  /** Restore the sync path; queued actions are retried within about two seconds. */
  heal(): void {
    fs.rmSync(path.join(this.stateDir, 'sync-partitioned'), { force: true });
  }
  get partitioned(): boolean {
    return fs.existsSync(path.join(this.stateDir, 'sync-partitioned'));
  }
  /** Path, inside a unit, of the sync transaction log (pending actions, JSON lines). */
  get syncLogFile(): string {
    return `${this.u('primary').spoolDir}/sync.tlog`;
  }

  /**
   * Waits until nothing more can be delivered by itself: on each unit whose simulator runs and is not
   * paused, spool/ and vscan/ hold no complete mail, and no sync action is pending that could still be
   * sent. Call it before asserting that nothing was delivered twice: once quiet, a late second delivery
   * is not merely unlikely but impossible until the test acts again. Sync actions that cannot move by
   * themselves do not count: those of a stopped unit (sent only after it starts again) and, while the
   * sync path is cut, those waiting in a transaction log (sent only after a heal).
   */
  async waitForQuiet(timeoutMs = 90_000): Promise<void> {
    let seen = '';
    await waitFor(
      'the lab to be quiet (no complete mail in a running, unpaused simulator\'s spool/ or vscan/, no pending sync action)',
      () => {
        const busy: string[] = [];
        for (const u of this.units) {
          const unit = this.u(u.name);
          const tlog = path.join(path.dirname(unit.hostPath('spool')), 'sync.tlog');
          if (this.gatewayPid(u.name) === null) continue;
          if (!this.partitioned && fs.existsSync(tlog) && fs.readFileSync(tlog, 'utf8').trim() !== '') busy.push(`${u.name}: sync actions pending`);
          // Actions queued in the running simulator's memory or on their way to the partner.
          if (fs.existsSync(`${tlog}.busy`)) busy.push(`${u.name}: sync actions on their way`);
          if (fs.existsSync(unit.pauseFile)) continue;
          for (const folder of ['spool', 'vscan'] as const) {
            const n = completeMails(unit.hostPath(folder));
            if (n > 0) busy.push(`${u.name}: ${n} in ${folder}/`);
          }
        }
        seen = busy.join(', ');
        return busy.length === 0;
      },
      timeoutMs,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; still: ${seen}`);
    });
  }

  /**
   * A command, run on a unit, that sends SIGUSR2 to the processes named `name` the way that unit can:
   * `pkill -x` (Debian's /bin/kill takes no names), or on BusyBox units (no pkill) their /bin/kill,
   * which takes names.
   */
  usr2ByName(name = this.processName): string[] {
    return this.profile.busybox ? ['/bin/kill', '-s', 'SIGUSR2', name] : ['pkill', '-USR2', '-x', name];
  }

  /** Keep (or stop keeping) mail in a unit's spool/: its simulator delivers nothing while paused. */
  pauseDelivery(ref: UnitRef | string): void {
    fs.writeFileSync(this.u(ref).pauseFile, '');
  }
  resumeDelivery(ref: UnitRef | string): void {
    fs.rmSync(this.u(ref).pauseFile, { force: true });
  }

  /**
   * Keep (or stop keeping) a SIGUSR2 from inserting: while paused the simulator defers what a signal
   * asks and inserts once resumed (a busy gateway that takes its time), so a test can act between the
   * signal and the insertion.
   */
  pauseInsertion(ref: UnitRef | string): void {
    fs.writeFileSync(`${this.u(ref).pauseFile}-insert`, '');
  }
  resumeInsertion(ref: UnitRef | string): void {
    fs.rmSync(`${this.u(ref).pauseFile}-insert`, { force: true });
  }

  /**
   * Between tests: stop both simulators, empty spool/vscan/input, logs and sinks of both units,
   * resume delivery, and start the primary's simulator again.
   */
  async reset(): Promise<void> {
    const units = ['primary', 'secondary'].map((r) => this.running(r));
    await Promise.all(units.map((u) => u.stopGateway()));
    for (const u of units) {
      for (const f of ['spool', 'vscan', 'input', 'logs', 'sink', 'opt'] as const) emptyFolder(u.hostPath(f));
      fs.rmSync(u.pauseFile, { force: true });
      fs.rmSync(`${u.pauseFile}-insert`, { force: true });
      fs.rmSync(path.join(path.dirname(u.hostPath('spool')), 'sync.tlog'), { force: true });
      fs.rmSync(path.join(path.dirname(u.hostPath('spool')), 'sync.tlog.busy'), { force: true });
      fs.rmSync(path.join(u.hostPath('spool'), '.sync'), { recursive: true, force: true });
      // A recovery's lock on the unit (beside spool/vscan/input).
      const base = path.dirname(u.hostPath('spool'));
      for (const n of fs.readdirSync(base)) if (n.startsWith('.mailgw-ha')) fs.rmSync(path.join(base, n), { recursive: true, force: true });
      seedLogHistory(u);
    }
    this.heal();
    await units[0].startGateway(this.linkPath);
  }
}

/** Mails in a folder with both halves (what a simulator would deliver or scan). */
function completeMails(dir: string): number {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return 0;
  }
  const set = new Set(names);
  return names.filter((n) => !n.startsWith('.') && n.endsWith('.env') && set.has(`${n.slice(0, -4)}.body`)).length;
}

/** One log line of a unit, in its profile's style (as gateway-sim.js writes them). */
export function logLine(u: { timeZone: string | undefined }, d: Date, level: string, message: string): string {
  if (u.timeZone !== undefined) {
    const z = zonedStamp(d, u.timeZone);
    return `${z.stamp} ${level.padEnd(8)} ${z.offset} ${message}`;
  }
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()} ${pad(d.getUTCMonth() + 1)} ${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +00:00 ${level.padEnd(8)} ${message}`;
}

/**
 * A box's logs reach back further than the lab: one rotated file whose lines start a day ago, so
 * that the recovery's delivered-mail proof sees logs covering the (back-dated) stranded mails.
 */
function seedLogHistory(u: Unit): void {
  const logs = u.hostPath('logs');
  fs.mkdirSync(logs, { recursive: true });
  const t = new Date(Date.now() - 24 * 3600_000);
  const end = new Date(Date.now() - 60_000);
  const name = `${path.basename(u.hostLogFile)}.${end.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}`;
  const file = path.join(logs, name);
  fs.writeFileSync(file, `${logLine(u, t, 'Info', 'SERVICE gateway started (pid=1)')}\n${logLine(u, end, 'Info', 'SERVICE log rotated')}\n`);
  fs.utimesSync(file, end, end);
}

function emptyFolder(dir: string): void {
  for (const n of fs.readdirSync(dir)) fs.rmSync(path.join(dir, n), { recursive: true, force: true });
}

function readState(stateDir: string): StateFile | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(stateDir, 'state.json'), 'utf8')) as StateFile;
  } catch {
    return undefined;
  }
}

export function checkRoot(): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new Error('the lab needs root (namespaces, sshd on port 22 of 127.0.0.x)');
  }
}

/** A port free on all the given addresses. */
async function freePort(addresses: string[]): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = net.createServer();
      s.once('error', reject);
      s.listen(0, addresses[0], () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    if (addresses.every((a) => !isListening(a, port))) return port;
  }
  throw new Error('lab: found no free port');
}
