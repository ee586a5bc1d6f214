// Log watch in a real VS Code host against the lab: the Gateway Log panel receives lines and marks
// the inserted ids after mail is put into input/ and the gateway gets SIGUSR2; the editor document
// carries the mailgw-log language, grows while open and links the inserted ids.
import * as assert from 'assert';
import * as fs from 'fs';
import * as vscode from 'vscode';
import type { LogDebugState } from '../../src/commands/logCommands';
import { activateExtension, waitFor } from './helpers';
import { hostLab } from './labHelpers';

const debugState = () => vscode.commands.executeCommand<LogDebugState>('mailgwHa.logDebugState', { cluster: 'lab', unit: 'fw-a' });
const PRIMARY_LOG = 'lab/fw-a:/var/phion/logs/srv_box1_mailgw.log';

/** The file's size and its last line, read together (only the last 4 KB). */
function tailOf(file: string): { size: number; last: string } {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const buf = Buffer.alloc(Math.min(size, 4096));
    fs.readSync(fd, buf, 0, buf.length, size - buf.length);
    return { size, last: buf.toString('utf8').split('\n').filter((l) => l).pop() ?? '' };
  } finally {
    fs.closeSync(fd);
  }
}

/** Waits until the extension's follower of fw-a's log has read a line containing `text`. */
async function followerHasRead(text: string): Promise<void> {
  let seen: string[] = [];
  await waitFor(
    `the extension's follower of fw-a's log to read a line with "${text}"`,
    async () => {
      const source = (await debugState()).sources.find((s) => s.key === PRIMARY_LOG);
      seen = source?.tail.slice(-5) ?? ['(no follower for fw-a)'];
      return source?.tail.some((l) => l.includes(text)) ? true : undefined;
    },
    30_000,
    () => `last lines it read: ${JSON.stringify(seen)}`,
  );
}

describe('lab: log watch', () => {
  before(async () => {
    await activateExtension();
    const lab = hostLab();
    await lab.reset();
    await lab.waitForLog('primary', 'SERVICE gateway started');
  });

  it('the panel shows the inserted ids (highlighted and counted) within a second of SIGUSR2', async () => {
    const lab = hostLab();
    assert.strictEqual(await vscode.commands.executeCommand('mailgwHa.watchLog', 'lab/fw-a'), true);
    await waitFor('the panel to report its state', async () => (await debugState()).panel);
    await waitFor('the follower to run', async () => (await debugState()).sources.some((s) => s.key === PRIMARY_LOG));
    const mails = [lab.putMail('primary', 'input'), lab.putMail('primary', 'input'), lab.putMail('primary', 'input')];
    const signalled = Date.now();
    const r = await lab.exec('primary', ['pkill', '-USR2', '-x', lab.processName]);
    assert.strictEqual(r.code, 0, r.stderr);
    const state = await waitFor(
      'the panel to mark the three inserted ids',
      async () => {
        const s = (await debugState()).panel;
        return s && mails.every((m) => s.insertedIds.includes(m.id)) && s.highlighted >= 3 ? s : undefined;
      },
      10_000,
    );
    const ms = Date.now() - signalled;
    console.log(`[suite]       panel marked 3 inserted ids ${ms} ms after SIGUSR2`);
    // Timing is the feature here: idle it takes 0.3-0.6 s (npm run bench measures it), 0.9-4.1 s
    // seen at load average 14-20 on 2 cores; the limit holds there while still catching a follower
    // that sleeps out its long-poll timeout or a panel stuck until the next unrelated line.
    assert.ok(ms < 5_000, `took ${ms} ms (idle under a second; 5 s is the limit under load)`);
    assert.deepStrictEqual([...state.insertedIds].sort(), mails.map((m) => m.id).sort());
    assert.ok(state.rows >= 4, `rows: ${state.rows}`);
    const status = (await debugState()).statusBar;
    assert.match(status, /lab: fw-a active/);
    assert.match(status, /3 inserted/);
  });

  it('"Open mailgw Log" opens a mailgw-log document that grows and links inserted ids', async () => {
    const lab = hostLab();
    const uri = vscode.Uri.parse(await vscode.commands.executeCommand<string>('mailgwHa.openLog', 'lab/fw-a'));
    const doc = await waitFor('the log document', () => vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString()));
    assert.strictEqual(doc.languageId, 'mailgw-log');
    assert.strictEqual(uri.scheme, 'mailgw-log');
    const before = doc.lineCount;
    const mail = lab.putMail('primary', 'input');
    await lab.exec('primary', ['pkill', '-USR2', '-x', lab.processName]);
    fs.appendFileSync(lab.hostLogFile('primary'), '2026 11 29 10:00:00 +00:00 Error    SPOOLER test error line\n');
    await waitFor('the document to grow with the insertion', () => (doc.getText().includes(`new mail inserted (id=${mail.id})`) && doc.getText().includes('test error line') ? true : undefined), 10_000);
    assert.ok(doc.lineCount > before, `${doc.lineCount} > ${before}`);
    const links = await vscode.commands.executeCommand<vscode.DocumentLink[]>('vscode.executeLinkProvider', doc.uri);
    const linked = links.map((l) => doc.getText(l.range));
    assert.ok(linked.includes(mail.id), `links: ${linked.join(', ')}`);
  });
});

describe('lab: log panel during a recovery', () => {
  it('shows which expected ids the log has confirmed', async () => {
    const api = await activateExtension();
    const lab = hostLab();
    assert.strictEqual(await vscode.commands.executeCommand('mailgwHa.watchLog', 'lab/fw-a'), true);
    const mails = [lab.putMail('primary', 'input'), lab.putMail('primary', 'input')];
    const expected = [...mails.map((m) => m.id), '99999-99999-99999'];
    api.services.recoveryEvents.fire({ cluster: 'lab', phase: 'signal', expectedIds: expected, confirmedIds: [] });
    await waitFor('the panel to show the recovery', async () => ((await debugState()).panel?.recovery?.expected === 3 ? true : undefined));
    await lab.exec('primary', ['pkill', '-USR2', '-x', lab.processName]);
    const state = await waitFor(
      'both inserted ids confirmed',
      async () => {
        const r = (await debugState()).panel?.recovery;
        return r && r.confirmed.length === 2 ? r : undefined;
      },
      10_000,
    );
    assert.deepStrictEqual([...state.confirmed].sort(), mails.map((m) => m.id).sort());
    api.services.recoveryEvents.fire({ cluster: 'lab', phase: 'done', expectedIds: [], confirmedIds: [] });
  });
});

describe('lab: from the log to the tree and back', () => {
  it('an inserted id reveals the mail in the tree; once delivered it is reported as not there', async () => {
    await activateExtension();
    const lab = hostLab();
    lab.pauseDelivery('primary');
    const mail = lab.putMail('primary', 'input');
    await lab.exec('primary', ['pkill', '-USR2', '-x', lab.processName]);
    await lab.waitForLog('primary', `new mail inserted (id=${mail.id})`);
    // The extension answers from what its follower has read, which may be behind the file under load.
    await followerHasRead(`new mail inserted (id=${mail.id})`);
    assert.strictEqual(await vscode.commands.executeCommand('mailgwHa.logRevealId', { cluster: 'lab', id: mail.id }), true);
    // "Reveal in Log" on the mail node: the editor selects the id in the log.
    const api = await activateExtension();
    const cluster = api.services.cluster('lab')!;
    const node = { kind: 'mail', cluster, unit: cluster.primary, folder: 'spool', mail: { id: mail.id } };
    assert.strictEqual(await vscode.commands.executeCommand('mailgwHa.revealInLog', node), true);
    const editor = vscode.window.activeTextEditor!;
    assert.strictEqual(editor.document.uri.scheme, 'mailgw-log');
    assert.strictEqual(editor.document.getText(editor.selection), mail.id);
    lab.resumeDelivery('primary');
    await lab.waitForLog('primary', `DELIVERY mail delivered (id=${mail.id}`);
    await followerHasRead(`DELIVERY mail delivered (id=${mail.id}`);
    // The HA sync removes the standby's copy after the delivery; until then the tree rightly shows it there.
    const left = () => (['spool', 'vscan', 'input'] as const).filter((f) => fs.existsSync(`${lab.hostPath('secondary', f)}/${mail.id}.env`));
    await waitFor('the standby\'s synced copy to be removed after the delivery', () => (left().length === 0 ? true : undefined), 30_000, () => `still in fw-b ${left().join(', ')}`);
    assert.strictEqual(await vscode.commands.executeCommand('mailgwHa.logRevealId', { cluster: 'lab', id: mail.id }), false);
  });
});

describe('lab: log panel under load', () => {
  it('keeps up with 5,000 lines/s for 3 s: every line received, at most 2,000 rows, the newest shown', async () => {
    await activateExtension();
    const lab = hostLab();
    assert.strictEqual(await vscode.commands.executeCommand('mailgwHa.watchLog', 'lab/fw-a'), true);
    await vscode.commands.executeCommand('mailgwHa.logSetFilter', ''); // "Reveal in Log" above filtered the panel
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const file = lab.hostLogFile('primary');
    // The gateway writes lines of its own (a late delivery or sync line of an earlier test), so
    // the count is taken against the file: first wait for a quiet lab and a panel that has read
    // the file up to a known size, then expect every line appended after that size.
    await lab.waitForQuiet();
    let start = { size: 0, received: 0 };
    await waitFor('the panel to have read the log so far', async () => {
      const { size, last } = tailOf(file);
      const panel = (await debugState()).panel;
      if (!panel || (last && panel.lastText !== last)) return undefined;
      start = { size, received: panel.received };
      return true;
    }, 20_000);
    const total = 15_000;
    const t0 = Date.now();
    let n = 0;
    while (n < total) {
      const due = Math.min(total, Math.floor(((Date.now() - t0) / 1000) * 5000) + 50);
      let text = '';
      for (; n < due; n++) text += `2026 11 29 10:00:00 +00:00 Info     LOAD line ${n}\n`;
      if (text) fs.appendFileSync(file, text);
      await new Promise((r) => setTimeout(r, 10));
    }
    const wrote = Date.now();
    const last = `2026 11 29 10:00:00 +00:00 Info     LOAD line ${total - 1}`;
    let seen: unknown;
    let followerGotIt = 0;
    let flushedAt = 0;
    const state = await waitFor('the panel to show the last line', async () => {
      const d = await debugState();
      if (!followerGotIt && d.sources.some((s) => s.last === last)) followerGotIt = Date.now();
      if (!flushedAt && d.panelFlush?.text === last) flushedAt = d.panelFlush.at;
      seen = { panel: { ...d.panel, insertedIds: undefined }, sources: d.sources.map((src) => ({ ...src, tail: undefined })) };
      const s = d.panel;
      // The newest line is the file's last one: normally `last`, or a line the gateway wrote after it.
      return s && s.lastText === tailOf(file).last && s.received - start.received >= total ? s : undefined;
      // What is asserted is that every line arrives and the newest is shown; the time it takes is
      // printed (10 s on a loaded 2-core machine, about 2 s idle), so the deadline only catches a stall.
    }, 45_000).catch((err: Error) => {
      throw new Error(`${err.message}; last state ${JSON.stringify(seen)}`);
    });
    console.log(`[suite]       ${total} lines in ${((wrote - t0) / 1000).toFixed(1)} s; last one read by the follower after ${followerGotIt - wrote} ms, sent to the webview after ${flushedAt - wrote} ms, rendered after ${state.at - wrote} ms, state seen after ${Date.now() - wrote} ms`);
    const appended = fs.readFileSync(file).subarray(start.size).toString('utf8').split('\n').filter((l) => l);
    const own = appended.filter((l) => !l.includes(' LOAD line '));
    assert.strictEqual(appended.length - own.length, total, 'LOAD lines in the file');
    assert.strictEqual(state.received - start.received, appended.length, `every appended line received once (${total} LOAD lines, and the gateway's own: ${JSON.stringify(own.slice(0, 5))})`);
    assert.ok(state.rows <= 2000, `rows: ${state.rows}`);
  });
});
