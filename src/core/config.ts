// The `mailgwHa.*` settings: parsed and validated into a model the rest of the core trusts.
// Every error names the cluster, the unit and the field, and says how to fix it.
import { isSafeAbsolutePath, isValidServicePart, gatewayName } from './names';
import { unitKey } from './keys';
import { ALGORITHM_KEYWORDS, AlgorithmKeyword, AlgorithmOverrides, parseAlgorithmSpec } from './ssh/algorithms';

export type UnitRole = 'primary' | 'secondary';

export interface UnitConfig {
  /** Stable key: `<cluster>/<unit>`. */
  readonly key: string;
  readonly clusterName: string;
  readonly name: string;
  readonly role: UnitRole;
  readonly host: string;
  readonly port?: number;
  readonly username?: string;
  readonly identityFile?: string;
  /**
   * Where the other unit reaches this one (direct transfer: the secondary connects to the primary
   * here); default: the address this machine connects to.
   */
  readonly haHost?: string;
  readonly haPort?: number;
  /** SSH algorithms offered to this unit, in the ssh_config style (ssh/algorithms.ts); over ~/.ssh/config's. */
  readonly algorithms?: AlgorithmOverrides;
}

/** How mail goes from the secondary to the primary: through this machine, straight, or direct when it can. */
export type TransferPath = 'auto' | 'direct' | 'relay';

export interface ClusterConfig {
  readonly name: string;
  readonly server: string;
  readonly service: string;
  /** `<server>_<service>`. */
  readonly gateway: string;
  readonly spoolRoot: string;
  /** The gateway log: as set in the settings, or the default name until discovery (core/log/discover.ts) finds the real one on a unit. */
  readonly logFile: string;
  /** `logFile` was set in the settings (then it is used as it is, never discovered). */
  readonly logFileSet: boolean;
  /** Once found on the primary (core/log/discover.ts withFoundLog): which file `logFile` is and why; kept for the whole run. */
  readonly logChoice?: { readonly file: string; readonly why: string; readonly fromSettings: boolean };
  readonly primary: UnitConfig;
  readonly secondary: UnitConfig;
  readonly units: readonly UnitConfig[];
  /** Default relay. */
  readonly transfer: TransferPath;
}

export interface ConfigError {
  readonly setting: string;
  readonly cluster?: string;
  readonly unit?: string;
  readonly field?: string;
  readonly message: string;
}

export interface Settings {
  readonly clusters: readonly ClusterConfig[];
  readonly knownHostsFile?: string;
  readonly errors: readonly ConfigError[];
}

export const DEFAULT_SPOOL_ROOT = '/var/phion/spool/mgw';
/** Where the box keeps its logs (docs/box.md); the gateway's log is one of them. */
export const BOX_LOG_FOLDER = '/var/phion/logs';

export function defaultLogFile(server: string, service: string): string {
  return `/var/phion/logs/srv_${gatewayName(server, service)}.log`;
}

export function formatConfigError(e: ConfigError): string {
  const where = [e.cluster !== undefined ? `cluster "${e.cluster}"` : undefined, e.unit !== undefined ? `unit "${e.unit}"` : undefined, e.field !== undefined ? `field "${e.field}"` : undefined]
    .filter(Boolean)
    .join(', ');
  return `${e.setting}${where ? ` (${where})` : ''}: ${e.message}`;
}

const CLUSTER_FIELDS = new Set(['name', 'server', 'service', 'spoolRoot', 'logFile', 'units', 'transfer']);
const UNIT_FIELDS = new Set(['name', 'role', 'host', 'port', 'username', 'identityFile', 'haHost', 'haPort', 'algorithms']);
// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const DISPLAY_NAME = /^[^\u0000-\u001f/\\]{1,64}$/;
// A host must not start with '-' (it would read as an option to ssh tools) or hold spaces.
const HOST = /^[A-Za-z0-9_.:[\]%-]{1,253}$/;
const USERNAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Validates raw settings values. `rawClusters` is the value of `mailgwHa.clusters`,
 * `rawKnownHostsFile` that of `mailgwHa.knownHostsFile`. `home` expands a leading `~/` in key paths.
 */
export function parseSettings(rawClusters: unknown, rawKnownHostsFile?: unknown, home?: string): Settings {
  const errors: ConfigError[] = [];
  const clusters: ClusterConfig[] = [];
  const S = 'mailgwHa.clusters';

  let knownHostsFile: string | undefined;
  if (rawKnownHostsFile !== undefined && rawKnownHostsFile !== null && rawKnownHostsFile !== '') {
    const expanded = typeof rawKnownHostsFile === 'string' ? expandHome(rawKnownHostsFile, home) : undefined;
    if (expanded === undefined || !expanded.startsWith('/')) {
      errors.push({ setting: 'mailgwHa.knownHostsFile', message: 'must be an absolute path to a known_hosts file (or be removed).' });
    } else {
      knownHostsFile = expanded;
    }
  }

  if (rawClusters === undefined || rawClusters === null) return { clusters, knownHostsFile, errors };
  if (!Array.isArray(rawClusters)) {
    errors.push({ setting: S, message: 'must be a list of clusters, e.g. [{ "name": "hq", "server": "box1", "service": "mailgw", "units": [...] }].' });
    return { clusters, knownHostsFile, errors };
  }

  const seenClusters = new Set<string>();
  rawClusters.forEach((raw, index) => {
    const label = `${S}[${index}]`;
    if (!isPlainObject(raw)) {
      errors.push({ setting: label, message: 'must be an object with name, server, service and units.' });
      return;
    }
    const name = typeof raw.name === 'string' ? raw.name.trim() : '';
    const clusterLabel = name || `#${index + 1}`;
    const before = errors.length;
    const err = (message: string, field?: string, unit?: string) => errors.push({ setting: label, cluster: clusterLabel, unit, field, message });

    for (const key of Object.keys(raw)) {
      if (!CLUSTER_FIELDS.has(key)) err(`unknown field; allowed are ${[...CLUSTER_FIELDS].join(', ')}. Remove or rename it.`, key);
    }
    if (!DISPLAY_NAME.test(name)) err('must be a non-empty name (up to 64 characters, no "/" or control characters).', 'name');
    else if (seenClusters.has(name)) err('another cluster already has this name; cluster names must be unique.', 'name');
    seenClusters.add(name);

    for (const field of ['server', 'service'] as const) {
      const v = raw[field];
      if (typeof v !== 'string' || !isValidServicePart(v)) {
        err(`must be the ${field} name exactly as on the box (case sensitive): letters, digits and "-", starting with a letter or digit, at most 32 characters; got ${describe(v)}.`, field);
      }
    }

    let spoolRoot = DEFAULT_SPOOL_ROOT;
    if (raw.spoolRoot !== undefined) {
      if (typeof raw.spoolRoot !== 'string' || !isSafeAbsolutePath(raw.spoolRoot.replace(/\/+$/, '') || '/')) {
        err(`must be an absolute path of plain segments (letters, digits, ".", "_", "+", "-"), e.g. ${DEFAULT_SPOOL_ROOT}; got ${describe(raw.spoolRoot)}.`, 'spoolRoot');
      } else {
        spoolRoot = raw.spoolRoot.replace(/\/+$/, '');
      }
    }
    let logFile: string | undefined;
    if (raw.logFile !== undefined) {
      if (typeof raw.logFile !== 'string' || !isSafeAbsolutePath(raw.logFile) || raw.logFile.endsWith('/')) {
        err(`must be the absolute path of the gateway log file, e.g. /var/phion/logs/srv_box1_mailgw.log; got ${describe(raw.logFile)}.`, 'logFile');
      } else if (!raw.logFile.startsWith(`${BOX_LOG_FOLDER}/`)) {
        // What this file says proves deliveries (and lets mail be removed): only the box's own logs may.
        err(`must be a file in the box's log folder ${BOX_LOG_FOLDER}/ (the gateway's log proves deliveries, so no other file may stand in for it), e.g. ${BOX_LOG_FOLDER}/srv_box1_mailgw_mailgw.log; got ${describe(raw.logFile)}.`, 'logFile');
      } else {
        logFile = raw.logFile;
      }
    }

    let transfer: TransferPath = 'auto';
    if (raw.transfer !== undefined) {
      if (raw.transfer !== 'auto' && raw.transfer !== 'direct' && raw.transfer !== 'relay') err(`must be "relay" (mail passes through this machine), "direct" (the secondary sends straight to the primary) or "auto" (direct when the secondary can reach the primary, else relay); got ${describe(raw.transfer)}.`, 'transfer');
      else transfer = raw.transfer;
    }

    const units: UnitConfig[] = [];
    if (!Array.isArray(raw.units) || raw.units.length !== 2) {
      err('must list exactly two units, one with "role": "primary" and one with "role": "secondary".', 'units');
    } else {
      const seenUnits = new Set<string>();
      raw.units.forEach((u, ui) => {
        const uLabel = isPlainObject(u) && typeof u.name === 'string' && u.name.trim() ? u.name.trim() : `#${ui + 1}`;
        const uerr = (message: string, field: string) => err(message, `units[${ui}].${field}`, uLabel);
        if (!isPlainObject(u)) {
          uerr('must be an object with name, role and host.', '');
          return;
        }
        const uBefore = errors.length;
        for (const key of Object.keys(u)) {
          if (!UNIT_FIELDS.has(key)) uerr(`unknown field; allowed are ${[...UNIT_FIELDS].join(', ')}. Passwords are never set here: the extension asks for them.`, key);
        }
        const uname = typeof u.name === 'string' ? u.name.trim() : '';
        if (!DISPLAY_NAME.test(uname)) uerr('must be a non-empty unit name (up to 64 characters, no "/").', 'name');
        else if (seenUnits.has(uname)) uerr('both units have the same name; give each unit its own name.', 'name');
        seenUnits.add(uname);
        if (u.role !== 'primary' && u.role !== 'secondary') uerr(`must be "primary" or "secondary"; got ${describe(u.role)}.`, 'role');
        if (typeof u.host !== 'string' || !HOST.test(u.host) || u.host.startsWith('-')) {
          uerr(`must be an address, DNS name or ~/.ssh/config Host alias (no spaces, not starting with "-"); got ${describe(u.host)}.`, 'host');
        }
        if (u.port !== undefined && !(Number.isInteger(u.port) && (u.port as number) >= 1 && (u.port as number) <= 65535)) {
          uerr(`must be a whole number from 1 to 65535; got ${describe(u.port)}.`, 'port');
        }
        if (u.haHost !== undefined && (typeof u.haHost !== 'string' || !HOST.test(u.haHost) || u.haHost.startsWith('-'))) {
          uerr(`must be the address or DNS name at which the other unit reaches this one (no spaces, not starting with "-"); got ${describe(u.haHost)}.`, 'haHost');
        }
        if (u.haPort !== undefined && !(Number.isInteger(u.haPort) && (u.haPort as number) >= 1 && (u.haPort as number) <= 65535)) {
          uerr(`must be a whole number from 1 to 65535; got ${describe(u.haPort)}.`, 'haPort');
        }
        if (u.username !== undefined && (typeof u.username !== 'string' || !USERNAME.test(u.username))) {
          uerr(`must be a login name (letters, digits, "_", ".", "-"); got ${describe(u.username)}.`, 'username');
        }
        let identityFile: string | undefined;
        if (u.identityFile !== undefined) {
          const expanded = typeof u.identityFile === 'string' ? expandHome(u.identityFile, home) : undefined;
          // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
          if (expanded === undefined || !expanded.startsWith('/') || /[\u0000-\u001f]/.test(expanded)) {
            uerr(`must be the absolute path of a private key file (or start with ~/); got ${describe(u.identityFile)}.`, 'identityFile');
          } else {
            identityFile = expanded;
          }
        }
        let algorithms: Partial<Record<AlgorithmKeyword, NonNullable<AlgorithmOverrides[AlgorithmKeyword]>>> | undefined;
        if (u.algorithms !== undefined) {
          if (!isPlainObject(u.algorithms)) uerr(`must be an object of ssh_config keywords (${ALGORITHM_KEYWORDS.join(', ')}), e.g. { "KexAlgorithms": "+diffie-hellman-group14-sha1" }; got ${describe(u.algorithms)}.`, 'algorithms');
          else {
            algorithms = {};
            for (const [k, v] of Object.entries(u.algorithms)) {
              if (!(ALGORITHM_KEYWORDS as readonly string[]).includes(k)) {
                uerr(`unknown keyword ${JSON.stringify(k.slice(0, 40))}; allowed are ${ALGORITHM_KEYWORDS.join(', ')} (as in ssh_config: a list, or +list to add, -list to remove, ^list to prefer).`, `algorithms.${k.slice(0, 40)}`);
                continue;
              }
              const { spec, error } = parseAlgorithmSpec(k as AlgorithmKeyword, v);
              if (error) uerr(`${error}.`, `algorithms.${k}`);
              else algorithms[k as AlgorithmKeyword] = spec;
            }
          }
        }
        if (errors.length === uBefore) {
          units.push({
            key: unitKey(name, uname),
            clusterName: name,
            name: uname,
            role: u.role as UnitRole,
            host: u.host as string,
            port: u.port as number | undefined,
            username: u.username as string | undefined,
            identityFile,
            haHost: u.haHost as string | undefined,
            haPort: u.haPort as number | undefined,
            ...(algorithms && Object.keys(algorithms).length ? { algorithms } : {}),
          });
        }
      });
      if (units.length === 2) {
        const primaries = units.filter((u) => u.role === 'primary').length;
        if (primaries !== 1) err('needs one unit with "role": "primary" and one with "role": "secondary".', 'units');
        else if (units[0].host === units[1].host && (units[0].port ?? 22) === (units[1].port ?? 22)) {
          err('both units point at the same host and port; an HA pair needs two different units.', 'units');
        }
      }
    }

    if (errors.length === before) {
      const server = raw.server as string;
      const service = raw.service as string;
      const primary = units.find((u) => u.role === 'primary') as UnitConfig;
      const secondary = units.find((u) => u.role === 'secondary') as UnitConfig;
      clusters.push({
        name,
        server,
        service,
        gateway: gatewayName(server, service),
        spoolRoot,
        logFile: logFile ?? defaultLogFile(server, service),
        logFileSet: logFile !== undefined,
        primary,
        secondary,
        units: [primary, secondary],
        transfer,
      });
    }
  });
  return { clusters, knownHostsFile, errors };
}

function expandHome(p: string, home?: string): string {
  if (home && (p === '~' || p.startsWith('~/'))) return home + p.slice(1);
  return p;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Remote folder layout of one cluster's gateway on a unit. */
export function gatewayDirs(cluster: ClusterConfig): { base: string; spool: string; vscan: string; input: string } {
  const base = `${cluster.spoolRoot}/${cluster.gateway}`;
  return { base, spool: `${base}/spool`, vscan: `${base}/vscan`, input: `${base}/input` };
}
