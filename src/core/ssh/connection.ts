// One ssh2 connection to one unit: verified host key (before auth), auth through auth.ts, keepalive,
// TCP_NODELAY, a connect timeout that pauses while the user answers a prompt, reconnect with backoff
// when the connection drops, and operations that fail with a clear error instead of hanging.
import { AlgorithmOverrides, describeNegotiationFailure, mergeOverrides, newOffers, noteOffer, ssh2Algorithms } from './algorithms';
import { EventEmitter } from 'events';
import * as net from 'net';
import type { Client, ClientChannel, ConnectConfig, SFTPWrapper } from 'ssh2';
import type { Cancellation, Logger, Prompts, SecretStore } from '../host';
import { shellCommand } from '../names';
import { createAuthSession, passphraseSecretKey, passwordSecretKey } from './auth';
import { SshError } from './errors';
import { Semaphore } from './semaphore';
import { ssh2 } from './loadSsh2';
import { KnownHosts } from './hostKeys';
import { createHostKeyVerifier } from './hostKeyVerifier';
import { resolveTarget, SshTarget } from './sshConfig';

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'failed' | 'closed';

export interface UnitAddress {
  /** Shown in every message, e.g. "lab/fw-a". */
  readonly label: string;
  readonly host: string;
  readonly port?: number;
  readonly username?: string;
  readonly identityFile?: string;
  /** The algorithms offered, over the ssh config's (ssh/algorithms.ts). */
  readonly algorithms?: AlgorithmOverrides;
}

export interface ConnectionOptions {
  readonly prompts: Prompts;
  readonly secrets: SecretStore;
  readonly logger: Logger;
  /** known_hosts files read (missing ones are skipped). */
  readonly knownHostsFiles: readonly string[];
  /**
   * The user's own known_hosts files (~/.ssh/known_hosts): a key recorded there decides; another
   * file listing a different key for the host cannot make it pass (reported as a changed key).
   */
  readonly userKnownHostsFiles?: readonly string[];
  /** The extension's own trust store (known_hosts format); "trust permanently" appends here. */
  readonly trustStoreFile?: string;
  /** ssh_config file for Host aliases; undefined: ~/.ssh/config. */
  readonly sshConfigFile?: string;
  /** Unknown host keys accepted for this process without asking (the CLI's --accept-new). */
  readonly acceptNewHostKeys?: boolean;
  readonly agentSocket?: string;
  readonly connectTimeoutMs?: number;
  readonly keepaliveIntervalMs?: number;
  /** Concurrent channels per connection (OpenSSH allows 10 sessions by default). */
  readonly maxChannels?: number;
  /** First and last delay of the reconnect backoff. */
  readonly reconnectDelaysMs?: readonly [number, number];
  /** Secrets entered this session; shared by the connections of one host so a reconnect does not ask again. */
  readonly sessionSecrets?: Map<string, string>;
  /** Host keys accepted "once" this session (fingerprints by host:port). */
  readonly sessionTrust?: Set<string>;
}

export interface ConnectionInfo {
  readonly authMethod: string;
  readonly hostKeyType: string;
  readonly fingerprint: string;
  /** The host key this connection verified (SSH wire format), e.g. to pin it for another client. */
  readonly hostKeyBlob?: Buffer;
  readonly connectedAt: Date;
  readonly target: SshTarget;
  /** Round trip of the connect, TCP to ready. */
  readonly handshakeMs: number;
  /** The algorithms the handshake agreed on, as ssh2 reports them. */
  readonly negotiated?: NegotiatedAlgorithms;
  /** The server's software from its identification (e.g. "OpenSSH_9.2p1", "dropbear_2022.83"), as data. */
  readonly serverSoftware?: string;
}

export interface NegotiatedAlgorithms {
  readonly kex: string;
  readonly serverHostKey: string;
  /** Client to server, and server to client. */
  readonly cs: { readonly cipher: string; readonly mac: string; readonly compress: string };
  readonly sc: { readonly cipher: string; readonly mac: string; readonly compress: string };
}

export interface ExecOptions {
  readonly timeoutMs?: number;
  /**
   * The command's input. A promise: the command is started at once and waits for its input, so the
   * round trips of starting it overlap whatever produces the input; the time limit counts from when
   * the input is sent. If the promise rejects, the channel is closed unsent (the command reads an
   * empty input) and the call rejects with that error.
   */
  readonly stdin?: Buffer | string | Promise<Buffer | string>;
  readonly cancellation?: Cancellation;
  /** Stop collecting stdout beyond this many bytes (the command still runs to its end). */
  readonly maxStdoutBytes?: number;
  /**
   * The command only reads: if the connection drops before it ends, it is run again on the new
   * connection, twice at most (Dropbear drops connections under load, mkj/dropbear#321; a read run
   * twice changes nothing).
   */
  readonly readOnly?: boolean;
}

export interface ExecResult {
  readonly code: number | null;
  readonly signal?: string;
  readonly stdout: Buffer;
  readonly stderr: string;
}

const DEFAULTS = {
  connectTimeoutMs: 15_000,
  keepaliveIntervalMs: 15_000,
  maxChannels: 8,
  reconnectDelaysMs: [1_000, 30_000] as const,
  execTimeoutMs: 60_000,
};

/** How many times a command (or SFTP) the server refused to start is asked again. */
const EXEC_RETRIES = 4;
/** The pause before asking again: 50, 100, 200, 400 ms. */
const retryDelayMs = (attempt: number) => 50 * 2 ** attempt;
/** Channels at once on a connection to Dropbear (see connect()). */
export const DROPBEAR_CHANNELS = 2;

/** Host key algorithm names ssh2 can negotiate for each known_hosts key type. */
const ALGORITHMS_FOR_TYPE: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

export class UnitConnection extends EventEmitter {
  private client: Client | undefined;
  private jumpClients: Client[] = [];
  private connecting: Promise<void> | undefined;
  /** Ends the handshakes under way (a log-in that hangs), so reset() and close() free their sockets too. */
  private readonly handshakes = new Set<(e: SshError) => void>();
  private sftpPromise: Promise<SFTPWrapper> | undefined;
  private readonly inFlight = new Set<(err: SshError) => void>();
  private readonly channels: Semaphore;
  /** Commands started before their input is known (see ExecOptions.stdin). */
  private readonly waitingForInput: Semaphore | undefined;
  /** Commands may start before their input is known (not with Dropbear's two channels, see connect()). */
  private earlyStart = true;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectAttempt = 0;
  private stateValue: ConnectionState = 'idle';
  private errorValue: SshError | undefined;
  private infoValue: ConnectionInfo | undefined;
  private readonly sessionSecrets: Map<string, string>;
  private readonly sessionTrust: Set<string>;

  constructor(
    readonly address: UnitAddress,
    private readonly options: ConnectionOptions,
  ) {
    super();
    this.channels = new Semaphore(options.maxChannels ?? DEFAULTS.maxChannels);
    const waiting = Math.floor((options.maxChannels ?? DEFAULTS.maxChannels) / 2);
    this.waitingForInput = waiting >= 1 ? new Semaphore(waiting) : undefined;
    this.sessionSecrets = options.sessionSecrets ?? new Map();
    this.sessionTrust = options.sessionTrust ?? new Set();
  }

  get state(): ConnectionState {
    return this.stateValue;
  }
  /** Why the last attempt failed, when state is 'failed' or 'reconnecting'. */
  get lastError(): SshError | undefined {
    return this.errorValue;
  }
  get info(): ConnectionInfo | undefined {
    return this.infoValue;
  }

  private setState(state: ConnectionState, error?: SshError): void {
    this.stateValue = state;
    this.errorValue = error;
    this.emit('state', state, error);
  }

  /**
   * Connects if not connected. `interactive` false (automatic reconnects, background refresh):
   * no prompt is shown; an unknown key or a missing secret fails instead.
   */
  async connect(interactive = true): Promise<void> {
    if (this.stateValue === 'closed') throw new SshError('closed', `${this.address.label}: the connection was closed (settings changed or the extension is stopping).`);
    if (this.client && this.stateValue === 'connected') return;
    if (!this.connecting) {
      this.clearReconnect();
      const wasReconnecting = this.stateValue === 'reconnecting';
      this.setState(wasReconnecting ? 'reconnecting' : 'connecting', this.errorValue);
      this.connecting = this.open(interactive)
        .then(
          () => {
            this.reconnectAttempt = 0;
            this.setState('connected');
          },
          (err: unknown) => {
            const e = err instanceof SshError ? err : new SshError('protocol', `${this.address.label}: ${(err as Error).message}`);
            if (this.stateValue === 'closed') throw e;
            if (!e.fatal && wasReconnecting) this.scheduleReconnect(e);
            else this.setState('failed', e);
            throw e;
          },
        )
        .finally(() => {
          this.connecting = undefined;
        });
    }
    return this.connecting;
  }

  /** Closes for good: pending operations fail with 'closed', no reconnect. */
  close(): void {
    this.clearReconnect();
    this.setState('closed');
    this.teardown(new SshError('closed', `${this.address.label}: the connection was closed (settings changed or the extension is stopping).`));
  }

  /** Drops the connection (e.g. to retry after a failure) without closing for good. */
  reset(): void {
    this.clearReconnect();
    this.teardown(new SshError('lost', `${this.address.label}: the connection was reset.`));
    this.reconnectAttempt = 0;
    this.setState('idle');
  }

  private clearReconnect(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
  }

  private teardown(reason: SshError): void {
    const client = this.client;
    this.client = undefined;
    this.sftpPromise = undefined;
    this.infoValue = undefined;
    for (const reject of [...this.inFlight]) reject(reason);
    this.inFlight.clear();
    client?.removeAllListeners('close');
    client?.end();
    for (const j of this.jumpClients) j.end();
    this.jumpClients = [];
    for (const abort of [...this.handshakes]) abort(reason);
  }

  private scheduleReconnect(error: SshError): void {
    const [first, last] = this.options.reconnectDelaysMs ?? DEFAULTS.reconnectDelaysMs;
    const delay = Math.min(last, first * 2 ** this.reconnectAttempt);
    this.reconnectAttempt++;
    this.setState('reconnecting', error);
    this.options.logger.info(`${this.address.label}: reconnecting in ${Math.round(delay / 1000)} s (${error.message})`);
    this.clearReconnect();
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect(false).catch(() => undefined);
    }, delay);
    this.reconnectTimer.unref?.();
  }

  private onUnexpectedClose(client: Client): void {
    if (client !== this.client) return;
    const lost = new SshError('lost', `${this.address.label}: the connection dropped; the operation did not finish. It is reconnecting; run the action again.`);
    this.options.logger.warn(`${this.address.label}: connection lost`);
    this.teardown(lost);
    this.scheduleReconnect(lost);
  }

  private async open(interactive: boolean): Promise<void> {
    const a = this.address;
    let target: SshTarget;
    try {
      target = resolveTarget(a.host, { port: a.port, username: a.username, identityFile: a.identityFile }, this.options.sshConfigFile);
    } catch (err) {
      throw new SshError('config', `${a.label}: cannot resolve host "${a.host}": ${(err as Error).message}`);
    }
    let sock: net.Socket | NodeJS.ReadWriteStream | undefined;
    const jumps: Client[] = [];
    try {
      for (const [i, jump] of target.jumps.entries()) {
        const jumpLabel = `${a.label} (jump host ${jump.alias})`;
        const c = await this.handshake(jump, jumpLabel, interactive, sock);
        jumps.push(c.client);
        const next = i + 1 < target.jumps.length ? target.jumps[i + 1] : target;
        sock = await new Promise<ClientChannel>((resolve, reject) =>
          c.client.forwardOut('127.0.0.1', 0, next.hostName, next.port, (err, ch) => (err ? reject(new SshError('unreachable', `${jumpLabel}: cannot reach ${next.hostName}:${next.port} from the jump host: ${err.message}`)) : resolve(ch))),
        );
      }
      const { client, info } = await this.handshake(target, a.label, interactive, sock);
      this.client = client;
      this.jumpClients = jumps;
      this.infoValue = info;
      // Dropbear 2022.83 refuses some of many commands started at once on one connection, or drops
      // it (mkj/dropbear#321): at most two channels there.
      if (/^dropbear/i.test(info.serverSoftware ?? '')) {
        this.channels.setLimit(DROPBEAR_CHANNELS);
        // With two channels, one command waiting for its input would leave one channel for
        // everything else, and two waiting commands whose inputs depend on each other (the primary's
        // hashing, then the placing) would hold each other up: there, input first, then the command.
        this.earlyStart = false;
      }
      client.on('close', () => this.onUnexpectedClose(client));
      this.options.logger.info(`${a.label}: connected to ${target.username}@${target.hostName}:${target.port} by ${info.authMethod}; host key ${info.hostKeyType} ${info.fingerprint}; handshake ${info.handshakeMs} ms`);
    } catch (err) {
      for (const j of jumps) j.end();
      throw err;
    }
  }

  private handshake(target: SshTarget, label: string, interactive: boolean, sock?: net.Socket | NodeJS.ReadWriteStream): Promise<{ client: Client; info: ConnectionInfo }> {
    const opts = this.options;
    const timeoutMs = opts.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs;
    const started = Date.now();
    const client = new (ssh2().Client)();
    const known = KnownHosts.load(opts.knownHostsFiles, [...(opts.userKnownHostsFiles ?? []), ...(opts.trustStoreFile ? [opts.trustStoreFile] : [])]);
    const aliases = target.alias !== target.hostName ? [target.alias] : [];
    const knownTypes = known.knownTypes(target.hostName, target.port, aliases);
    const preferred = knownTypes.flatMap((t) => ALGORITHMS_FOR_TYPE[t] ?? []);

    return new Promise((resolve, reject) => {
      let settled = false;
      let negotiated: NegotiatedAlgorithms | undefined;
      let serverSoftware: string | undefined;
      // What both sides offered, for a failed negotiation's message (ssh2's debug lines, until agreed).
      const offers = newOffers();
      client.on('handshake', (n: NegotiatedAlgorithms) => (negotiated = n));
      let timer: NodeJS.Timeout | undefined;
      let paused = 0;
      const fail = (e: SshError) => {
        if (settled) return;
        settled = true;
        this.handshakes.delete(fail);
        if (timer) clearTimeout(timer);
        client.removeAllListeners();
        client.on('error', () => undefined);
        client.end();
        if (ownSocket) ownSocket.destroy();
        reject(e);
      };
      this.handshakes.add(fail);
      const arm = () => {
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => fail(new SshError('timeout', `${label}: no SSH answer from ${target.hostName}:${target.port} within ${Math.round(timeoutMs / 1000)} s. Check that the unit is up and the host and port in the settings are right.`)), timeoutMs);
      };
      const whilePrompting = async <T>(fn: () => Promise<T>): Promise<T> => {
        paused++;
        if (timer) clearTimeout(timer);
        try {
          return await fn();
        } finally {
          if (--paused === 0 && !settled) arm();
        }
      };

      let ownSocket: net.Socket | undefined;
      if (!sock) {
        ownSocket = net.connect({ host: target.hostName, port: target.port });
        ownSocket.setNoDelay(true);
        ownSocket.setKeepAlive(true, 30_000);
        ownSocket.on('error', () => undefined); // reported through the client
      }

      const auth = createAuthSession({
        unitLabel: label,
        username: target.username,
        host: target.hostName,
        port: target.port,
        identityFiles: target.identityFiles,
        agentSocket: opts.agentSocket,
        prompts: opts.prompts,
        secrets: opts.secrets,
        logger: opts.logger,
        sessionSecrets: this.sessionSecrets,
        whilePrompting,
        interactive,
      });

      const hostKeys = createHostKeyVerifier({
        label,
        target,
        aliases,
        known,
        interactive,
        acceptNew: opts.acceptNewHostKeys === true,
        sessionTrust: this.sessionTrust,
        prompts: opts.prompts,
        trustStoreFile: opts.trustStoreFile,
        logger: opts.logger,
        whilePrompting,
      });

      client.on('ready', () => {
        if (settled) return;
        settled = true;
        this.handshakes.delete(fail);
        if (timer) clearTimeout(timer);
        client.removeAllListeners('error');
        client.on('error', (err) => opts.logger.warn(`${label}: ${err.message}`));
        void auth.commit().catch((err: Error) => opts.logger.warn(`${label}: could not store the secret: ${err.message}`));
        resolve({
          client,
          info: { authMethod: auth.lastMethod() ?? 'none', hostKeyType: hostKeys.seen()?.type ?? '?', fingerprint: hostKeys.seen()?.fingerprint ?? '?', hostKeyBlob: hostKeys.seen()?.blob, connectedAt: new Date(), target, handshakeMs: Date.now() - started, negotiated, serverSoftware },
        });
      });
      client.on('error', (err: Error & { level?: string; code?: string }) => {
        const refused = hostKeys.refusal();
        if (refused) return fail(refused);
        const authFailure = auth.failure();
        if (authFailure) return fail(authFailure);
        if (err.level === 'client-authentication') {
          const tried = auth.tried();
          return fail(new SshError('auth', `${label}: ${target.username}@${target.hostName} refused every login method tried (${tried.length ? tried.join(', ') : 'none available'}). Check the username and identityFile in the settings, load the key into ssh-agent, or enter the password again (stored secrets can be cleared with "mailgw-ha: Clear Stored Secrets").`));
        }
        if (err.code === 'ECONNREFUSED' || err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH' || err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') {
          return fail(new SshError('unreachable', `${label}: cannot connect to ${target.hostName}:${target.port} (${err.code}). Check that the unit is up and the host and port in the settings are right.`));
        }
        if (err.level === 'client-timeout') return fail(new SshError('timeout', `${label}: no SSH answer from ${target.hostName}:${target.port}.`));
        const noCommon = describeNegotiationFailure(err.message, offers, this.address.label.split('/').pop() ?? label);
        if (noCommon) return fail(new SshError('protocol', `${label}: SSH handshake with ${target.hostName}:${target.port} failed: ${noCommon}`));
        fail(new SshError('protocol', `${label}: SSH handshake with ${target.hostName}:${target.port} failed: ${err.message}`));
      });
      client.on('close', () => fail(hostKeys.refusal() ?? auth.failure() ?? new SshError('lost', `${label}: ${target.hostName}:${target.port} closed the connection during the handshake.`)));

      const config: ConnectConfig = {
        sock: (ownSocket ?? sock) as ConnectConfig["sock"],
        username: target.username,
        readyTimeout: 0, // our own timer, which pauses while the user answers a prompt
        keepaliveInterval: target.keepaliveIntervalMs ?? opts.keepaliveIntervalMs ?? DEFAULTS.keepaliveIntervalMs,
        keepaliveCountMax: 3,
        hostVerifier: hostKeys.verify as unknown as ConnectConfig['hostVerifier'],
        authHandler: auth.handler,
        // The unit's own settings apply to the unit, not to a jump host on the way.
        algorithms: ssh2Algorithms(mergeOverrides(target.algorithms ?? {}, target.alias === this.address.host ? this.address.algorithms : undefined), preferred) as ConnectConfig['algorithms'],
        debug: (line: string) => {
          if (negotiated) return;
          noteOffer(offers, line);
          const ident = /^Remote ident: '?SSH-[\d.]+-([\x21-\x7e]{1,100})/.exec(line);
          if (ident) serverSoftware = ident[1].replace(/'$/, '');
        },
      };
      arm();
      try {
        client.connect(config);
      } catch (err) {
        fail(new SshError('config', `${label}: ${(err as Error).message}`));
      }
    });
  }

  /** Runs a fixed slot of work on the connection, failing it cleanly if the connection drops. */
  private async withClient<T>(work: (client: Client, onLost: (cb: (err: SshError) => void) => () => void) => Promise<T>): Promise<T> {
    await this.connect();
    const release = await this.channels.acquire();
    try {
      const client = this.client;
      if (!client) throw this.errorValue ?? new SshError('lost', `${this.address.label}: the connection dropped before the operation started.`);
      const onLost = (cb: (err: SshError) => void) => {
        this.inFlight.add(cb);
        return () => this.inFlight.delete(cb);
      };
      return await work(client, onLost);
    } finally {
      release();
    }
  }

  /** Runs argv (quoted here; callers never build shell text) and collects its output. */
  exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const command = shellCommand(argv);
    if (!options.readOnly) return this.execShell(command, options);
    return this.readAgain(() => this.execShell(command, options), (e) => e.code === 'lost' && !options.cancellation?.isCancellationRequested);
  }

  /**
   * Runs a read; if it fails in a way `again` accepts (a dropped connection), runs it again, twice
   * at most, after a pause that lets the dropped connection's close arrive first (so that the read
   * goes to the new one). A read run twice changes nothing.
   */
  private readAgain<T>(read: () => Promise<T>, again: (e: SshError) => boolean): Promise<T> {
    const attempt = (left: number): Promise<T> =>
      read().catch(async (e: unknown) => {
        if (!(e instanceof SshError) || !again(e) || left === 0 || this.stateValue === 'closed') throw e;
        this.options.logger.info(`${this.address.label}: a read was cut (${e.code}); reading again`);
        await new Promise((r) => setTimeout(r, 250));
        return attempt(left - 1);
      });
    return attempt(2);
  }

  /**
   * Runs a fixed shell script. Only for constant script text with "$1".. parameters: the arguments
   * are quoted here and passed as positional parameters.
   */
  execScript(script: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    return this.exec(['sh', '-c', script, 'sh', ...args], options);
  }

  private execShell(command: string, options: ExecOptions): Promise<ExecResult> {
    const pending = options.stdin instanceof Promise ? options.stdin : undefined;
    if (!pending) return this.runShell(command, options);
    // With a single channel nothing may wait on it: the input first, then the command.
    if (!this.waitingForInput || !this.earlyStart) return pending.then((stdin) => this.runShell(command, { ...options, stdin }));
    // Commands waiting for their input hold at most half the channels, so that whatever produces
    // the input always finds one: a waiting command can never hold up its own input.
    return this.waitingForInput.acquire().then((release) => {
      pending.then(release, release);
      return this.runShell(command, options, pending);
    });
  }

  /** `pending`: options.stdin when it is a promise (the command waits for it). */
  private runShell(command: string, options: ExecOptions, pending?: Promise<Buffer | string>): Promise<ExecResult> {
    const label = this.address.label;
    const timeoutMs = options.timeoutMs ?? DEFAULTS.execTimeoutMs;
    return this.withClient(
      (client, onLost) =>
        new Promise<ExecResult>((resolve, reject) => {
          const stdout: Buffer[] = [];
          let stdoutBytes = 0;
          const stderr: Buffer[] = [];
          let done = false;
          let channel: ClientChannel | undefined;
          let cancelPoll: NodeJS.Timeout | undefined;
          const finish = (err?: Error, result?: ExecResult) => {
            if (done) return;
            done = true;
            clearTimeout(timer);
            if (cancelPoll) clearInterval(cancelPoll);
            unlisten();
            if (err) {
              channel?.close();
              reject(err);
            } else resolve(result!);
          };
          const unlisten = onLost((err) => finish(err));
          let timer: NodeJS.Timeout | undefined;
          const startTimer = () => {
            if (!done) timer = setTimeout(() => finish(new SshError('exec-timeout', `${label}: the remote command did not finish within ${Math.round(timeoutMs / 1000)} s.`)), timeoutMs);
          };
          if (pending) pending.catch((e: unknown) => finish(e instanceof Error ? e : new Error(String(e))));
          else startTimer();
          if (options.cancellation) {
            cancelPoll = setInterval(() => {
              if (options.cancellation?.isCancellationRequested) finish(new SshError('closed', `${label}: cancelled.`));
            }, 100);
          }
          const start = (attempt: number) => {
            try {
              exec(attempt);
            } catch (e) {
              // ssh2 throws when the connection dropped before its close was seen.
              finish(new SshError('lost', `${label}: the connection dropped before the command started: ${(e as Error).message}`));
            }
          };
          const exec = (attempt: number) => client.exec(command, (err, ch) => {
            if (err) {
              // The server refused the channel or the command before anything ran: asking again is
              // safe (a busy sshd, Dropbear's concurrent-exec bug); a few times, with a pause.
              if (!done && attempt < EXEC_RETRIES && /Unable to exec|Channel open failure/i.test(err.message)) return void setTimeout(() => !done && start(attempt + 1), retryDelayMs(attempt));
              return finish(new SshError('protocol', `${label}: cannot run a command: ${err.message}`));
            }
            channel = ch;
            if (done) return ch.close();
            let code: number | null = null;
            let signal: string | undefined;
            ch.on('exit', (c: number | null, s?: string) => {
              code = c;
              signal = s ?? undefined;
            });
            ch.on('data', (d: Buffer) => {
              if (options.maxStdoutBytes !== undefined && stdoutBytes >= options.maxStdoutBytes) return;
              stdout.push(d);
              stdoutBytes += d.length;
            });
            ch.stderr.on('data', (d: Buffer) => stderr.push(d));
            ch.on('close', () => finish(undefined, { code, signal, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr).toString('utf8') }));
            if (pending) {
              pending.then((input) => {
                if (done) return;
                startTimer();
                ch.end(input);
              }, () => undefined);
            } else if (options.stdin !== undefined) ch.end(options.stdin);
            else ch.end();
          });
          start(0);
        }),
    );
  }

  /**
   * Starts a long-running command (e.g. a log follower) on its own channel. The channel is closed
   * when the connection drops; `onLost` is told so that the caller can resume after reconnecting.
   */
  async stream(argv: readonly string[], onLost: (err: SshError) => void): Promise<ClientChannel> {
    await this.connect();
    // The slot first, then the client: the connection may drop while we wait for a slot, and every
    // way out after acquiring gives the slot back (ssh2 throws synchronously when not connected).
    const release = await this.channels.acquire();
    const client = this.client;
    if (!client) {
      release();
      throw new SshError('lost', `${this.address.label}: the connection dropped before the command started.`);
    }
    return new Promise((resolve, reject) => {
      try {
        client.exec(shellCommand(argv), (err, ch) => {
          if (err) {
            release();
            return reject(new SshError('protocol', `${this.address.label}: cannot run a command: ${err.message}`));
          }
          const lost = (e: SshError) => {
            ch.close();
            onLost(e);
          };
          this.inFlight.add(lost);
          ch.on('close', () => {
            this.inFlight.delete(lost);
            release();
          });
          resolve(ch);
        });
      } catch (e) {
        release();
        reject(new SshError('lost', `${this.address.label}: the connection dropped before the command started: ${(e as Error).message}`));
      }
    });
  }

  /** The connection's SFTP session, opened once and reused. */
  async sftp(): Promise<SFTPWrapper> {
    await this.connect();
    if (!this.sftpPromise) {
      const client = this.client!;
      const label = this.address.label;
      this.sftpPromise = new Promise<SFTPWrapper>((resolve, reject) => {
        // A server that refused to start the subsystem (Dropbear under load) is asked again, as for commands.
        const open = (attempt: number): void => {
          try {
            client.sftp((err, sftp) => {
              if (err && attempt < EXEC_RETRIES && this.client === client && /Unable to start subsystem|Channel open failure/i.test(err.message)) return void setTimeout(() => open(attempt + 1), retryDelayMs(attempt));
              if (err) return reject(new SshError('protocol', `${label}: cannot open SFTP: ${err.message}`));
              sftp.on('close', () => {
                if (this.client === client) this.sftpPromise = undefined;
              });
              resolve(sftp);
            });
          } catch (e) {
            // ssh2 throws when the connection dropped before its close was seen.
            reject(new SshError('lost', `${label}: the connection dropped before SFTP started: ${(e as Error).message}`));
          }
        };
        open(0);
      });
      this.sftpPromise.catch(() => {
        this.sftpPromise = undefined;
      });
    }
    return this.sftpPromise;
  }

  /**
   * Runs an SFTP operation; if the connection drops while it runs, it rejects with 'lost' instead
   * of waiting forever for an answer.
   */
  async withSftp<T>(work: (sftp: SFTPWrapper) => Promise<T>, opts: { readOnly?: boolean } = {}): Promise<T> {
    if (!opts.readOnly) return this.sftpOnce(work);
    // Reads only: again after a dropped connection or a subsystem the server would not start.
    return this.readAgain(() => this.sftpOnce(work), (e) => e.code === 'lost' || /cannot open SFTP/.test(e.message));
  }

  private async sftpOnce<T>(work: (sftp: SFTPWrapper) => Promise<T>): Promise<T> {
    const sftp = await this.sftp();
    return new Promise<T>((resolve, reject) => {
      let done = false;
      const lost = (err: SshError) => {
        if (done) return;
        done = true;
        reject(err);
      };
      this.inFlight.add(lost);
      work(sftp).then(
        (v) => {
          if (done) return;
          done = true;
          this.inFlight.delete(lost);
          resolve(v);
        },
        (err) => {
          if (done) return;
          done = true;
          this.inFlight.delete(lost);
          reject(err);
        },
      );
    });
  }

  /** Forget the secrets of this unit (stored and in this session). */
  async clearSecrets(): Promise<number> {
    let target: SshTarget;
    try {
      target = resolveTarget(this.address.host, { port: this.address.port, username: this.address.username, identityFile: this.address.identityFile }, this.options.sshConfigFile);
    } catch {
      return 0;
    }
    const keys = [passwordSecretKey(target.username, target.hostName, target.port), ...target.identityFiles.map(passphraseSecretKey)];
    let n = 0;
    for (const k of keys) {
      if ((await this.options.secrets.get(k)) !== undefined) n++;
      await this.options.secrets.delete(k);
      this.sessionSecrets.delete(k);
    }
    return n;
  }
}
