// Resolves a unit's `host` through ~/.ssh/config (HostName, Port, User, IdentityFile, ProxyJump,
// ServerAliveInterval), with the ssh-config package. Settings win over the config file, as
// command-line options win over it for OpenSSH.
import * as os from 'os';
import * as path from 'path';
import SSHConfig from 'ssh-config';
import { readSettingFile, SettingFileError } from '../files';
import { ALGORITHM_KEYWORDS, AlgorithmKeyword, AlgorithmOverrides, parseAlgorithmSpec } from './algorithms';

export interface SshTarget {
  /** What the user wrote: an alias or an address. */
  readonly alias: string;
  /** Where to connect. */
  readonly hostName: string;
  readonly port: number;
  readonly username: string;
  readonly identityFiles: readonly string[];
  readonly keepaliveIntervalMs?: number;
  /** Jump hosts in order (ProxyJump a,b: a first). */
  readonly jumps: readonly SshTarget[];
  /** HostKeyAlgorithms, KexAlgorithms, Ciphers, MACs from the config (ssh/algorithms.ts). */
  readonly algorithms?: AlgorithmOverrides;
}

export interface TargetOverrides {
  readonly port?: number;
  readonly username?: string;
  readonly identityFile?: string;
}

const MAX_JUMPS = 4;

export function defaultSshConfigFile(): string {
  return path.join(os.homedir(), '.ssh', 'config');
}

function loadConfig(file: string | undefined): SSHConfig | undefined {
  if (!file) return undefined;
  try {
    return SSHConfig.parse(readSettingFile(file, 'ssh config').toString('utf8'));
  } catch (err) {
    if (err instanceof SettingFileError && err.code === 'ENOENT') return undefined;
    throw new Error(`cannot read ssh config ${file}: ${(err as Error).message}`);
  }
}

type Computed = Record<string, string | string[] | undefined>;

/**
 * ssh_config keywords are case-insensitive (`hostname` is `HostName`), but the parser keeps them as
 * written: each keyword under its canonical spelling, the first value winning as in OpenSSH, and
 * every IdentityFile kept.
 */
function keywordsOf(computed: Record<string, unknown>): Partial<Record<'HostName' | 'Port' | 'User' | 'IdentityFile' | 'ServerAliveInterval' | 'ProxyJump' | AlgorithmKeyword, string | string[]>> {
  const canonical = new Map(['HostName', 'Port', 'User', 'IdentityFile', 'ServerAliveInterval', 'ProxyJump', ...ALGORITHM_KEYWORDS].map((k) => [k.toLowerCase(), k]));
  const out: Computed = {};
  for (const [key, value] of Object.entries(computed)) {
    const k = canonical.get(key.toLowerCase());
    if (!k || (typeof value !== 'string' && !Array.isArray(value))) continue;
    if (k === 'IdentityFile') out[k] = ([] as string[]).concat(out[k] ?? [], value as string | string[]);
    else if (out[k] === undefined) out[k] = value as string | string[];
  }
  return out;
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function expandTilde(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p;
}

/** `[user@]host[:port]` as ProxyJump writes it. */
function parseJumpSpec(spec: string): { host: string; user?: string; port?: number } {
  const m = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(spec.trim());
  if (!m) throw new Error(`cannot read ProxyJump entry "${spec}"`);
  return { user: m[1], host: m[2].replace(/^\[|\]$/g, ''), port: m[3] ? Number(m[3]) : undefined };
}

export function resolveTarget(host: string, overrides: TargetOverrides = {}, configFile: string | undefined = defaultSshConfigFile(), depth = 0): SshTarget {
  const config = loadConfig(configFile);
  const c = keywordsOf(config?.compute(host) ?? {});
  const port = overrides.port ?? (c.Port !== undefined ? Number(first(c.Port)) : 22);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`ssh config for ${host}: invalid Port ${JSON.stringify(c.Port)}`);
  const identityFiles = overrides.identityFile
    ? [overrides.identityFile]
    : ([] as string[]).concat(c.IdentityFile ?? []).map(expandTilde);
  const alive = first(c.ServerAliveInterval);
  const jumpSpec = first(c.ProxyJump);
  const jumps: SshTarget[] = [];
  if (jumpSpec && jumpSpec.toLowerCase() !== 'none') {
    if (depth >= MAX_JUMPS) throw new Error(`ssh config: ProxyJump for ${host} nests deeper than ${MAX_JUMPS} hosts`);
    for (const spec of jumpSpec.split(',')) {
      const j = parseJumpSpec(spec);
      const resolved = resolveTarget(j.host, { port: j.port, username: j.user }, configFile, depth + 1);
      jumps.push(...resolved.jumps, { ...resolved, jumps: [] });
    }
  }
  const algorithms: AlgorithmOverrides = {};
  for (const k of ALGORITHM_KEYWORDS) {
    const v = first(c[k]);
    if (v === undefined) continue;
    const { spec, error } = parseAlgorithmSpec(k, v);
    if (error) throw new Error(`ssh config for ${host}: ${error}`);
    (algorithms as Record<string, unknown>)[k] = spec;
  }
  return {
    ...(Object.keys(algorithms).length ? { algorithms } : {}),
    alias: host,
    hostName: first(c.HostName) ?? host,
    port,
    username: overrides.username ?? first(c.User) ?? 'root',
    identityFiles,
    keepaliveIntervalMs: alive !== undefined && Number(alive) > 0 ? Number(alive) * 1000 : undefined,
    jumps,
  };
}
