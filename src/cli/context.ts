// What every CLI verb needs: the settings file, the chosen cluster(s), a connection pool with the
// CLI's prompts (TTY) and secrets (environment), and a log on stderr.
import * as os from 'os';
import * as path from 'path';
import { ClusterConfig, formatConfigError, parseSettings, Settings, UnitConfig } from '../core/config';
import { Logger, MemorySecretStore, Prompts, SecretStore } from '../core/host';
import { ConnectionPool } from '../core/ssh/pool';
import { readSettingFile } from '../core/files';
import { ParsedArgs, UsageError } from './args';
import { terminalText } from '../core/text/terminal';
import { userKnownHostsFile } from '../core/ssh/hostKeys';

export interface CliContext {
  readonly settings: Settings;
  /** The whole settings JSON, for feature settings beyond clusters (mailgwHa.signalMethod, ...). */
  readonly raw: Record<string, unknown>;
  readonly settingsFile: string;
  readonly clusters: readonly ClusterConfig[];
  readonly pool: ConnectionPool;
  readonly json: boolean;
  readonly logger: Logger;
  /** Where the CLI keeps journals and reports: beside the settings file. */
  readonly stateDir: string;
  dispose(): void;
}

/** Passwords and passphrases come from the environment, never from the command line (visible in ps). */
class EnvSecretStore implements SecretStore {
  private readonly memory = new MemorySecretStore();
  async get(key: string) {
    const mem = await this.memory.get(key);
    if (mem !== undefined) return mem;
    if (key.startsWith('password:')) return process.env.MAILGW_HA_PASSWORD || undefined;
    if (key.startsWith('passphrase:')) return process.env.MAILGW_HA_PASSPHRASE || undefined;
    return undefined;
  }
  store(key: string, value: string) {
    return this.memory.store(key, value);
  }
  delete(key: string) {
    return this.memory.delete(key);
  }
}

function readHidden(prompt: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const stdin = process.stdin;
    if (!stdin.isTTY) return resolve(undefined);
    // The prompt may hold the server's keyboard-interactive text.
    process.stderr.write(terminalText(prompt));
    stdin.setRawMode(true);
    stdin.resume();
    let value = '';
    const done = (v: string | undefined) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener('data', onData);
      process.stderr.write('\n');
      resolve(v);
    };
    const onData = (d: Buffer) => {
      for (const ch of d.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done(value);
        if (ch === '\u0003' || ch === '\u0004') return done(undefined);
        if (ch === '\u007f') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

function cliPrompts(): Prompts {
  return {
    // The CLI never trusts an unknown key by asking: --accept-new or a known_hosts file decide.
    async confirmHostKey() {
      return 'reject';
    },
    async askSecret(q) {
      const value = await readHidden(`${q.retry ? 'Refused. ' : ''}${q.prompt}: `);
      return value === undefined ? undefined : { value, remember: false };
    },
    async askKeyboardInteractive(q) {
      const answers: string[] = [];
      for (const p of q.prompts) {
        const a = await readHidden(`${q.unit}: ${p.prompt}`);
        if (a === undefined) return undefined;
        answers.push(a);
      }
      return answers;
    },
  };
}

export function stderrLogger(verbose: boolean): Logger {
  const w = (level: string) => (m: string) => process.stderr.write(`mailgw-ha ${level}: ${terminalText(m)}\n`);
  return { debug: verbose ? w('debug') : () => undefined, info: verbose ? w('info') : () => undefined, warn: w('warning'), error: w('error') };
}

export function loadContext(args: ParsedArgs): CliContext {
  const file = args.options.get('settings');
  if (typeof file !== 'string') throw new UsageError('--settings FILE is required (a JSON file with "mailgwHa.clusters", like .vscode/settings.json)');
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(stripJsonComments(readSettingFile(file, '--settings', 8 << 20).toString('utf8'))) as Record<string, unknown>;
  } catch (err) {
    throw new CliFailure(`cannot read settings file ${file}: ${(err as Error).message}`);
  }
  const settings = parseSettings(raw['mailgwHa.clusters'], raw['mailgwHa.knownHostsFile'], os.homedir());
  const clusterName = args.options.get('cluster');
  let clusters = settings.clusters;
  if (typeof clusterName === 'string') {
    clusters = clusters.filter((c) => c.name === clusterName);
    if (clusters.length === 0) {
      const bad = settings.errors.find((e) => e.cluster === clusterName);
      throw new CliFailure(bad ? formatConfigError(bad) : `no cluster named "${clusterName}" in ${file} (clusters: ${settings.clusters.map((c) => c.name).join(', ') || 'none'})`);
    }
  }
  const logger = stderrLogger(process.env.MAILGW_HA_VERBOSE === '1');
  for (const e of settings.errors) if (typeof clusterName !== 'string' || e.cluster === clusterName || e.cluster === undefined) logger.warn(formatConfigError(e));
  const knownHostsFiles: string[] = [];
  if (settings.knownHostsFile) knownHostsFiles.push(settings.knownHostsFile);
  const extra = args.options.get('known-hosts');
  if (typeof extra === 'string') knownHostsFiles.push(path.resolve(extra));
  const pool = new ConnectionPool({
    prompts: cliPrompts(),
    secrets: new EnvSecretStore(),
    logger,
    knownHostsFiles,
    userKnownHostsFiles: [userKnownHostsFile()],
    acceptNewHostKeys: args.options.has('accept-new'),
    agentSocket: process.env.SSH_AUTH_SOCK || undefined,
    connectTimeoutMs: Number(process.env.MAILGW_HA_CONNECT_TIMEOUT_MS) || undefined,
    reconnectDelaysMs: [500, 5_000],
  });
  return {
    settings,
    raw,
    settingsFile: path.resolve(file),
    clusters,
    pool,
    json: args.options.has('json'),
    logger,
    stateDir: path.join(path.dirname(path.resolve(file)), '.mailgw-ha'),
    dispose: () => pool.dispose(),
  };
}

/** A failure the CLI reports as one line and exit 1. */
export class CliFailure extends Error {}

/** settings.json may hold comments and trailing commas (VS Code's JSONC). */
export function stripJsonComments(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else if (c === '/' && text[i + 1] === '*') {
      i = text.indexOf('*/', i + 2);
      if (i < 0) break;
      i++;
    } else out += c;
  }
  return out.replace(/,(\s*[}\]])/g, '$1');
}

/** Finds a unit by name ("fw-a"), by key ("lab/fw-a") or by role ("primary") in the chosen clusters. */
export function findUnit(ctx: CliContext, ref: string | undefined): { cluster: ClusterConfig; unit: UnitConfig } {
  if (!ref) throw new UsageError('a UNIT is needed (its name, cluster/name, "primary" or "secondary")');
  const hits: { cluster: ClusterConfig; unit: UnitConfig }[] = [];
  for (const cluster of ctx.clusters) for (const unit of cluster.units) if (unit.name === ref || unit.key === ref || unit.role === ref) hits.push({ cluster, unit });
  if (hits.length === 1) return hits[0];
  if (hits.length === 0) throw new CliFailure(`no unit "${ref}" in ${ctx.settingsFile}; units: ${ctx.clusters.flatMap((c) => c.units.map((u) => u.key)).join(', ')}`);
  throw new CliFailure(`"${ref}" matches ${hits.length} units (${hits.map((h) => h.unit.key).join(', ')}); use --cluster NAME or cluster/unit`);
}
