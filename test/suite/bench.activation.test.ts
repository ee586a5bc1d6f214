// Run by `npm run bench` (group "bench"), not by npm test: times the extension's activation in the
// real host and writes the figure to $MAILGW_BENCH_OUT.
import * as assert from 'assert';
import * as fs from 'fs';
import * as vscode from 'vscode';
import type { MailgwHaTestApi } from '../../src/extension';
import { EXTENSION_ID } from './helpers';

describe('bench: activation', () => {
  it('activates and reports how long activate() took', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, 'extension loaded');
    assert.strictEqual(ext.isActive, false, 'nothing activated the extension before the measurement');
    const t0 = performance.now();
    const api = (await ext.activate()) as MailgwHaTestApi | undefined;
    const ms = performance.now() - t0;
    // What of the wall time is the extension's: the rest is the host (the extension context's
    // storage, read through the browser in code-server) and waiting for a busy machine.
    assert.ok(api?.timing, 'the test-mode API reports its timing');
    const out = process.env.MAILGW_BENCH_OUT;
    if (out) fs.writeFileSync(out, JSON.stringify({ activationMs: ms, loadMs: api.timing.loadMs, activateMs: api.timing.activateMs }));
  });
});
