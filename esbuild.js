// Bundles the extension, the CLI, the VS Code host test suite and the webview scripts.
// ssh2's optional native addons are left out on purpose: users get the pure-JS build, so we build,
// test and benchmark exactly that.
const esbuild = require('esbuild');
const fs = require('fs');
const path = require('path');

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
// --out DIR: write dist/ and out/ under DIR instead of the repository (the bundle checks use it).
const outRoot = process.argv.includes('--out') ? process.argv[process.argv.indexOf('--out') + 1] : '.';

const nodeCommon = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  sourcesContent: false,
  logLevel: 'warning',
  // cpu-features and ssh2's sshcrypto.node are optional: ssh2 falls back to pure JS without them.
  external: ['vscode', 'cpu-features', '*.node'],
};

function suiteEntries() {
  const dir = path.join(__dirname, 'test', 'suite');
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => path.join(dir, f));
}

// The extension loads ssh2 on its first connection (src/core/ssh/loadSsh2.ts) from a bundle of its
// own, so activation does not compile and evaluate it. The CLI keeps one self-contained file.
const ssh2Apart = {
  name: 'ssh2-apart',
  setup(build) {
    build.onResolve({ filter: /^ssh2$/ }, () => ({ path: './ssh2.js', external: true }));
  },
};

const builds = [
  {
    ...nodeCommon,
    entryPoints: { extension: 'src/extension.ts' },
    outdir: 'dist',
    plugins: [ssh2Apart],
    // When the bundle started loading (module scope, not a global), so the activation benchmark can
    // tell the extension's own loading time from the host's (src/extension.ts).
    banner: { js: 'var __mailgwHaLoadStart = performance.now();' },
  },
  { ...nodeCommon, entryPoints: { ssh2: require.resolve('ssh2') }, outdir: 'dist' },
  {
    ...nodeCommon,
    entryPoints: { cli: 'src/cli.ts' },
    outdir: 'dist',
    banner: { js: '#!/usr/bin/env node' },
  },
  {
    ...nodeCommon,
    // The suite runs inside the extension host: mocha is bundled, vscode is provided by the host.
    entryPoints: suiteEntries(),
    outdir: 'out/suite',
    sourcemap: true,
    minify: false,
    // mocha's parallel mode is never used in the extension host.
    logOverride: { 'require-resolve-not-external': 'silent' },
  },
  {
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    sourcemap: !production,
    minify: production,
    logLevel: 'warning',
    // The webview pages (log panel, queue shape): a program of their own (src/webview/tsconfig.json),
    // one explicit entry each.
    entryPoints: { logPanel: 'src/webview/logPanelPage.ts', queueShape: 'src/webview/queueShapePage.ts' },
    outdir: 'dist/webview',
  },
]
  .filter((b) => b.entryPoints && (Array.isArray(b.entryPoints) ? b.entryPoints.length : Object.keys(b.entryPoints).length))
  .map((b) => ({ ...b, outdir: path.join(outRoot, b.outdir) }));

async function main() {
  if (watch) {
    const contexts = await Promise.all(builds.map((b) => esbuild.context(b)));
    await Promise.all(contexts.map((c) => c.watch()));
    console.log('[watch] esbuild is watching for changes');
    return;
  }
  await Promise.all(builds.map((b) => esbuild.build(b)));
  const cli = path.join(outRoot, 'dist', 'cli.js');
  if (fs.existsSync(cli)) fs.chmodSync(cli, 0o755);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
