// Run by `npm run bench` (group "bench"), not by npm test: times the extension's activation in the
// real host and writes the figure to $MAILGW_BENCH_OUT.
import * as assert from 'assert';
import * as fs from 'fs';
import * as vscode from 'vscode';
import { EXTENSION_ID } from './helpers';

describe('bench: activation', () => {
  it('activates and reports how long activate() took', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, 'extension loaded');
    assert.strictEqual(ext.isActive, false, 'nothing activated the extension before the measurement');
    const t0 = performance.now();
    await ext.activate();
    const ms = performance.now() - t0;
    const out = process.env.MAILGW_BENCH_OUT;
    if (out) fs.writeFileSync(out, JSON.stringify({ activationMs: ms }));
  });
});
