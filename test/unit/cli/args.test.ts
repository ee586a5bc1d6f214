// The command line is strict: a mistyped or misplaced option is a usage error naming the option at
// fault (exit 2), never a guess, and a value is taken from exactly where the user wrote it.
import * as assert from 'assert';
import { parseArgs, UsageError } from '../../../src/cli/args';

// The options the CLI accepts (src/cli/main.ts): value options and flags.
const ALLOWED = new Set(['settings', 'cluster', 'json', 'known-hosts', 'accept-new', 'dry-run', 'yes', 'follow', 'inserted', 'lines', 'journal', 'help', 'include-duplicates', 'take-over-lock', 'insert', 'discard']);

/** The UsageError `argv` is refused with. */
function refusal(argv: string[], allowed: ReadonlySet<string> = ALLOWED): UsageError {
  try {
    parseArgs(argv, allowed);
  } catch (err) {
    assert.ok(err instanceof UsageError, `expected a UsageError, got ${String(err)}`);
    return err;
  }
  assert.fail(`${JSON.stringify(argv)} was accepted`);
}

describe('cli/args: command-line parsing', () => {
  it('takes the first positional as the verb and keeps the rest in order, wherever the options stand', () => {
    const a = parseArgs(['--settings', '/etc/mgw.json', 'ls', '--json', 'fw-a', 'vscan'], ALLOWED);
    assert.strictEqual(a.verb, 'ls');
    assert.deepStrictEqual(a.positionals, ['fw-a', 'vscan']);
    assert.deepStrictEqual([...a.options], [['settings', '/etc/mgw.json'], ['json', true]]);
  });

  it('reads a value option as "--name value" and as "--name=value" alike, and keeps "=" inside the value', () => {
    assert.strictEqual(parseArgs(['logs', '--lines', '50', 'fw-a'], ALLOWED).options.get('lines'), '50');
    const eq = parseArgs(['logs', '--lines=50', 'fw-a'], ALLOWED);
    assert.strictEqual(eq.options.get('lines'), '50');
    assert.deepStrictEqual(eq.positionals, ['fw-a'], 'the value is not also a positional');
    assert.strictEqual(parseArgs(['status', '--settings=/tmp/a=b.json'], ALLOWED).options.get('settings'), '/tmp/a=b.json');
  });

  it('consumes the word after a value option as its value, not as the verb or a positional', () => {
    const a = parseArgs(['--cluster', 'status', 'recover'], ALLOWED);
    assert.strictEqual(a.options.get('cluster'), 'status');
    assert.strictEqual(a.verb, 'recover');
    assert.deepStrictEqual(a.positionals, []);
  });

  it('sets a flag to true, and the verb is empty when none is given', () => {
    const a = parseArgs(['--dry-run', '--yes'], ALLOWED);
    assert.strictEqual(a.verb, '');
    assert.strictEqual(a.options.get('dry-run'), true);
    assert.strictEqual(a.options.get('yes'), true);
    assert.strictEqual(a.options.has('json'), false);
  });

  it('refuses an unknown long option, naming it', () => {
    const e = refusal(['status', '--jsn']);
    assert.strictEqual(e.message, 'unknown option --jsn');
    assert.strictEqual(refusal(['status', '--frobnicate=1']).message, 'unknown option --frobnicate', 'named without its value');
  });

  it('refuses an option the caller did not allow, even one that takes a value elsewhere', () => {
    assert.strictEqual(refusal(['held', '--insert', 'x'], new Set(['settings'])).message, 'unknown option --insert');
  });

  it('refuses a short option (there are none), naming it, but takes "-" as a positional', () => {
    assert.strictEqual(refusal(['status', '-y']).message, 'unknown option -y');
    assert.strictEqual(refusal(['-settings', 'x']).message, 'unknown option -settings');
    assert.deepStrictEqual(parseArgs(['ls', '-'], ALLOWED).positionals, ['-']);
  });

  it('refuses a value option without a value, at the end or empty after "=", naming it', () => {
    assert.strictEqual(refusal(['logs', 'fw-a', '--lines']).message, '--lines needs a value');
    assert.strictEqual(refusal(['status', '--settings=']).message, '--settings needs a value');
    assert.strictEqual(refusal(['status', '--known-hosts', '']).message, '--known-hosts needs a value');
  });

  it('refuses a value given to a flag, naming the flag', () => {
    assert.strictEqual(refusal(['recover', '--yes=no']).message, '--yes takes no value');
    assert.strictEqual(refusal(['recover', '--dry-run=']).message, '--dry-run takes no value');
  });

  it('takes everything after "--" as positionals, also words that look like options', () => {
    const a = parseArgs(['ls', '--json', '--', '--weird-unit', '-x', '--lines'], ALLOWED);
    assert.strictEqual(a.verb, 'ls');
    assert.deepStrictEqual(a.positionals, ['--weird-unit', '-x', '--lines']);
    assert.deepStrictEqual([...a.options.keys()], ['json']);
    assert.strictEqual(parseArgs(['--', 'status'], ALLOWED).verb, 'status', 'the verb may follow "--" too');
  });
});
