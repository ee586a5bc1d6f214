// Every relative link in README.md and docs/*.md resolves to a file of the repository, and every
// repository file or doc a page cites by name (`src/…`, `test/…`, `something.md`) exists: a reader
// who follows the docs never lands on nothing. Absolute links must not point at placeholder hosts.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const PAGES = ['README.md', ...fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
/** Outputs that tools write and git ignores; pages may name them. */
const GENERATED = [/^bench\/results\//, /^\.test-output\//, /^\.lab\//, /^dist\//, /^out\//];

function linksOf(text: string): string[] {
  // Inline links and images, outside code blocks.
  const prose = text.replace(/```[\s\S]*?```/g, '');
  return [...prose.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]);
}

function citedPaths(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(/`((?:src|test|docs|media|bench|scripts)\/[^`\s:]+)`/g)) out.add(m[1].replace(/[),.;]+$/, ''));
  for (const m of text.matchAll(/(?<![\w/.-])([\w-]+\.md)\b/g)) out.add(m[1]);
  return [...out];
}

describe('docs: links', () => {
  for (const page of PAGES) {
    const text = fs.readFileSync(path.join(ROOT, page), 'utf8');
    it(`${page}: every relative link resolves`, () => {
      const broken = linksOf(text)
        .filter((l) => !/^(https?:|mailto:|command:|#)/.test(l))
        .filter((l) => !fs.existsSync(path.resolve(ROOT, path.dirname(page), decodeURIComponent(l.split('#')[0]))));
      assert.deepStrictEqual(broken, []);
    });
    it(`${page}: no link to a placeholder host`, () => {
      assert.deepStrictEqual(linksOf(text).filter((l) => /example\.(invalid|com|org)|localhost\.invalid/.test(l)), []);
    });
    it(`${page}: every file it cites exists`, () => {
      const missing = citedPaths(text).filter((p) => {
        if (GENERATED.some((g) => g.test(p))) return false;
        if (!p.includes('/')) return !fs.existsSync(path.join(ROOT, p)) && !fs.existsSync(path.join(ROOT, 'docs', p));
        const glob = p.replace(/\*.*$/, '');
        return !fs.existsSync(path.join(ROOT, glob));
      });
      assert.deepStrictEqual(missing, []);
    });
  }
  it('package.json links to no placeholder host', () => {
    const pkg = fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8');
    assert.doesNotMatch(pkg, /example\.invalid/);
  });
});
