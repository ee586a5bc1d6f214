// The neutralisers of src/core/text/ against the hostile corpus: whatever a unit, a mail, a log or a
// workspace sends, a notification shows no link or icon, a tooltip renders no link, image or HTML,
// and the terminal receives no control sequence.
import * as assert from 'assert';
import { escapeControls } from '../../../src/core/text/chars';
import { markdownText, untrustedMarkdownOptions } from '../../../src/core/text/markdown';
import { MESSAGE_MAX, messageText } from '../../../src/core/text/message';
import { jsonText, logLineText, terminalText } from '../../../src/core/text/terminal';
import { COMMAND_LINK, HOSTILE_TEXTS } from '../../hostile/corpus';

/** VS Code's own link parser for notifications (vs/base/common/linkedText.ts, as in code-server 4.100.3). */
const VSCODE_LINK = /\[([^\]]+)\]\(((?:https?:\/\/|command:|file:)[^)\s]+)(?: (["'])(.+?)(\3))?\)/gi;
// eslint-disable-next-line no-control-regex -- what must not reach a screen
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/;
// eslint-disable-next-line no-control-regex -- as above, line feed allowed
const CONTROLS_BUT_LF = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
/** Bidi, zero-width and BOM; soft hyphen, U+180E, U+3164 and the tag characters (F10). */
const INVISIBLE = /[\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\u3164\ufeff\u{E0000}-\u{E007F}]/u;

// A real CommonMark renderer, stricter than VS Code's hovers (HTML and linkify on).
// eslint-disable-next-line @typescript-eslint/no-require-imports -- untyped, test only
const MarkdownIt = require('markdown-it') as new (o: object) => { render(s: string): string };
const md = new MarkdownIt({ html: true, linkify: true });

describe('text neutralisers: notifications (messageText)', () => {
  for (const { name, text } of HOSTILE_TEXTS) {
    it(`${name}: no link VS Code would render, no icon, no control or bidi character, capped`, () => {
      const out = messageText(text);
      VSCODE_LINK.lastIndex = 0;
      assert.strictEqual(VSCODE_LINK.exec(out), null, out.slice(0, 200));
      assert.ok(!out.includes('$('), out.slice(0, 200));
      assert.ok(!CONTROLS.test(out), JSON.stringify(out.slice(0, 200)));
      assert.ok(!INVISIBLE.test(out), JSON.stringify(out.slice(0, 200)));
      assert.ok(out.length <= MESSAGE_MAX, `${out.length}`);
      assert.strictEqual(messageText(out), out, 'idempotent: neutralising twice changes nothing');
    });
  }

  it('keeps line feeds only when asked (modal details), still escaping the rest', () => {
    const out = messageText('plan:\n  a\u001b[2J\n  b\u202e', { multiline: true });
    assert.ok(out.includes('\n  a'), out);
    assert.ok(!CONTROLS_BUT_LF.test(out) && !INVISIBLE.test(out), JSON.stringify(out));
    assert.ok(!messageText('a\nb').includes('\n'));
  });

  it('leaves ordinary messages exactly as written', () => {
    for (const s of ['lab/fw-a: cannot connect to 127.2.0.8:22 (ECONNREFUSED). Check that the unit is up.', 'Recover 3 mail(s) from fw-b to fw-a?', 'C:\\path (x) [y] is fine']) {
      assert.strictEqual(messageText(s), s);
    }
  });

  it('shows what was there: the escape of ESC and of U+202E is visible text', () => {
    assert.strictEqual(messageText('a\u001bb\u202ec'), 'a\\x1bb\\u202ec');
  });

  it('F10: shows U+00AD, U+180E, U+3164 and the tag characters as visible escapes, in every neutraliser', () => {
    const text = 'a\u00adb\u180ec\u3164d\u{E0041}\u{E007F}e';
    const shown = 'a\\xadb\\u180ec\\u3164d\\u{e0041}\\u{e007f}e';
    assert.strictEqual(escapeControls(text), shown);
    assert.strictEqual(messageText(text), shown);
    assert.strictEqual(logLineText(text), shown);
    assert.strictEqual(terminalText(text), shown);
    assert.strictEqual(markdownText(text), shown.replace(/[{}\\]/g, (c) => `\\${c}`));
    const json = jsonText({ text });
    assert.strictEqual(json, '{"text":"a\\u00adb\\u180ec\\u3164d\\udb40\\udc41\\udb40\\udc7fe"}');
    assert.deepStrictEqual(JSON.parse(json), { text }, 'the same JSON value');
  });

  it('breaks the review finding\'s link but keeps its words', () => {
    const out = messageText(`lab/fw-a: SSH handshake failed: ${COMMAND_LINK}`);
    assert.ok(out.includes('Update trusted host key'), out);
    assert.ok(out.includes('] (command:'), out);
  });

  it('never cuts a surrogate pair in half', () => {
    const out = messageText('😀'.repeat(5), { max: 4 });
    assert.ok(!/[\ud800-\udbff]$/.test(out.slice(0, -1)), JSON.stringify(out));
  });

  it('turns non-string values (errors, undefined, objects) into text without throwing', () => {
    assert.strictEqual(messageText(new Error('[x](command:y)')), '[x] (command:y)');
    assert.strictEqual(messageText(undefined), 'undefined');
    assert.strictEqual(messageText({ toString: () => { throw new Error('no'); } }), '(unprintable value)');
  });
});

describe('text neutralisers: tooltips (markdownText)', () => {
  for (const { name, text } of HOSTILE_TEXTS) {
    it(`${name}: renders as text only — no link, image or HTML element, no icon`, () => {
      const html = md.render(`| k | ${markdownText(text)} |\n|---|---|\n`);
      assert.ok(!/<a[\s>]/i.test(html), html.slice(0, 300));
      assert.ok(!/<img[\s>]/i.test(html), html.slice(0, 300));
      // Only the table's own elements: any other tag came from the text.
      const tags = [...html.matchAll(/<\/?([a-z0-9]+)/gi)].map((m) => m[1].toLowerCase());
      assert.deepStrictEqual([...new Set(tags)].filter((t) => !['table', 'thead', 'tbody', 'tr', 'th', 'td'].includes(t)), [], html.slice(0, 300));
      assert.ok(!CONTROLS.test(markdownText(text)) && !INVISIBLE.test(markdownText(text)));
    });
  }

  it('shows the text itself (each escape renders as the character)', () => {
    const text = 'From: "Eve" <eve@evil.example> [x](y) $(icon) *a* 1.2';
    const html = md.render(markdownText(text));
    assert.strictEqual(html.replace(/<\/?p>|\n/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"'), text);
  });

  it('asks for an untrusted MarkdownString: no command links, no theme icons, no HTML', () => {
    assert.deepStrictEqual(untrustedMarkdownOptions, { isTrusted: false, supportThemeIcons: false, supportHtml: false });
  });
});

describe('text neutralisers: terminal and output channel (terminalText, logLineText, jsonText)', () => {
  for (const { name, text } of HOSTILE_TEXTS) {
    it(`${name}: no control or invisible character reaches the terminal`, () => {
      for (const out of [terminalText(text), logLineText(text)]) {
        assert.ok(!CONTROLS.test(out), JSON.stringify(out.slice(0, 200)));
        assert.ok(!INVISIBLE.test(out), JSON.stringify(out.slice(0, 200)));
      }
    });
  }

  it('cannot be forged: a literal "\\x1b" in the text is not the same as an ESC', () => {
    assert.notStrictEqual(terminalText('\\x1b'), terminalText('\u001b'));
    assert.strictEqual(terminalText('\u001b[2J'), '\\x1b[2J');
  });

  it('--json stays valid JSON with the same values, and writes no DEL, C1 or bidi character raw', () => {
    const value = { names: HOSTILE_TEXTS.map((h) => h.text.slice(0, 200)) };
    const out = jsonText(value, 2);
    assert.deepStrictEqual(JSON.parse(out), value);
    assert.ok(!CONTROLS.test(out.replace(/\n/g, '')) && !INVISIBLE.test(out), 'nothing raw');
  });

  it('escapeControls can keep line feeds for multi-line texts', () => {
    assert.strictEqual(escapeControls('a\nb\u001b', true), 'a\nb\\x1b');
  });
});
