// The TextMate grammar of mailgw logs, tokenized by VS Code's own engine (vscode-textmate +
// vscode-oniguruma, taken from the code-server that `npm test` installs under .cache/host): the
// scopes that give inserted ids, errors and levels their theme colours.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';

const REPO = path.resolve(__dirname, '..', '..', '..');
const VSCODE_MODULES = path.join(REPO, '.cache', 'host', 'node_modules', 'code-server', 'lib', 'vscode', 'node_modules');

// Just the parts of vscode-textmate / vscode-oniguruma used here (they are not dependencies of the repo).
interface TextMate {
  Registry: new (o: { onigLib: Promise<unknown>; loadGrammar(scope: string): Promise<unknown> }) => { loadGrammar(scope: string): Promise<{ tokenizeLine(line: string, state: unknown): { tokens: Token[] } } | null> };
  parseRawGrammar(text: string, file: string): unknown;
  INITIAL: unknown;
}
interface Oniguruma {
  loadWASM(data: ArrayBuffer): Promise<void>;
  OnigScanner: new (s: string[]) => unknown;
  OnigString: new (s: string) => unknown;
}

interface Token {
  startIndex: number;
  endIndex: number;
  scopes: string[];
}

describe('media/mailgw-log.tmLanguage.json', function () {
  let tokenize: (line: string) => { text: string; scopes: string[] }[];

  before(async function () {
    if (!fs.existsSync(path.join(VSCODE_MODULES, 'vscode-textmate'))) {
      // Only before `bash test/setup.sh` has installed the VS Code host; say so instead of passing.
      console.warn(`    (skipped: ${VSCODE_MODULES}/vscode-textmate is missing; run bash test/setup.sh)`);
      this.skip();
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const tm = require(path.join(VSCODE_MODULES, 'vscode-textmate')) as TextMate;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const onig = require(path.join(VSCODE_MODULES, 'vscode-oniguruma')) as Oniguruma;
    const wasm = fs.readFileSync(path.join(VSCODE_MODULES, 'vscode-oniguruma', 'release', 'onig.wasm'));
    await onig.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength) as ArrayBuffer);
    const registry = new tm.Registry({
      onigLib: Promise.resolve({ createOnigScanner: (s: string[]) => new onig.OnigScanner(s), createOnigString: (s: string) => new onig.OnigString(s) }),
      loadGrammar: async (scope: string) => (scope === 'text.log.mailgw' ? tm.parseRawGrammar(fs.readFileSync(path.join(REPO, 'media', 'mailgw-log.tmLanguage.json'), 'utf8'), 'mailgw-log.tmLanguage.json') : null),
    });
    const grammar = await registry.loadGrammar('text.log.mailgw');
    assert.ok(grammar, 'grammar loads');
    tokenize = (line) => grammar.tokenizeLine(line, tm.INITIAL).tokens.map((t) => ({ text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes }));
  });

  const scopeOf = (tokens: { text: string; scopes: string[] }[], text: string) => tokens.find((t) => t.text === text)?.scopes.join(' ') ?? `(no token "${text}")`;

  it('marks the inserted id, the time stamp, the level and the subsystem', () => {
    const t = tokenize('2026 11 28 17:46:22 +00:00 Info     SPOOLER new mail inserted (id=00042-17301-00001)');
    assert.match(scopeOf(t, '00042-17301-00001'), /markup\.inserted\.id/);
    assert.match(scopeOf(t, '2026 11 28 17:46:22 +00:00'), /comment\.line\.timestamp/);
    assert.match(scopeOf(t, 'Info'), /storage\.type\.level\.info/);
    assert.match(scopeOf(t, 'SPOOLER'), /keyword\.other\.subsystem/);
    assert.match(scopeOf(t, 'new mail inserted'), /markup\.inserted/);
  });

  it('marks error lines as invalid and warnings as changed', () => {
    const e = tokenize('2026 11 28 17:50:00 +00:00 Error    SPOOLER cannot insert mail (id=1): ENOENT');
    assert.match(scopeOf(e, 'Error'), /invalid\.illegal/);
    assert.ok(e.some((x) => x.text.includes('cannot insert mail') && x.scopes.some((s) => s.startsWith('invalid.illegal.message'))), JSON.stringify(e));
    const w = tokenize('2026 11 28 17:46:22 +00:00 Warning  SPOOLER incomplete mail in input ignored (file=a.body)');
    assert.match(scopeOf(w, 'Warning'), /markup\.changed/);
  });

  it('marks ids and Message-IDs of other lines', () => {
    const t = tokenize('2026 11 28 17:46:24 +00:00 Info     DELIVERY mail delivered (id=00042-17301-00001, message-id=<lab-1@lab.example>, to=dave@dest.example)');
    assert.match(scopeOf(t, '00042-17301-00001'), /string\.unquoted\.mail-id/);
    assert.match(scopeOf(t, '<lab-1@lab.example>'), /string\.quoted\.other\.message-id/);
  });
});
