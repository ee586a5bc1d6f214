// Command-line parsing for mailgw-ha: small and strict, so a typo is a usage error (exit 2), never a guess.

export class UsageError extends Error {}

export interface ParsedArgs {
  readonly verb: string;
  readonly positionals: string[];
  readonly options: Map<string, string | true>;
}

/** Options that take a value; every other `--x` is a flag. */
const VALUE_OPTIONS = new Set(['settings', 'cluster', 'known-hosts', 'lines', 'journal', 'insert', 'discard', 'by', 'concurrency', 'unit-timeout', 'audit-log', 'stuck-after']);

export function parseArgs(argv: readonly string[], allowed: ReadonlySet<string>): ParsedArgs {
  const positionals: string[] = [];
  const options = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      if (!allowed.has(name)) throw new UsageError(`unknown option --${name}`);
      if (VALUE_OPTIONS.has(name)) {
        const value = eq > 0 ? a.slice(eq + 1) : argv[++i];
        if (value === undefined || value === '') throw new UsageError(`--${name} needs a value`);
        options.set(name, value);
      } else {
        if (eq > 0) throw new UsageError(`--${name} takes no value`);
        options.set(name, true);
      }
    } else if (a.startsWith('-') && a !== '-') {
      throw new UsageError(`unknown option ${a}`);
    } else {
      positionals.push(a);
    }
  }
  const verb = positionals.shift() ?? '';
  return { verb, positionals, options };
}
