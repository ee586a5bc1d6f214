// The verdict on one standby mail from what both units showed: what proves "present", "delivered"
// and "absent", and what is held. The named histories of the issue, judged from their evidence:
// a message to two domains (one Message-ID, two transactions), a list's re-send, a hostile sender.
import * as assert from 'assert';
import type { LogSearch } from '../../../../src/core/recovery/deliveryLogs';
import type { MailIdentity } from '../../../../src/core/recovery/identity';
import { judgeMail, StandbyMail } from '../../../../src/core/recovery/proof';
import type { SpoolFolder } from '../../../../src/core/spool/list';

const X = '11111-11111-11111';
const Y = '22222-22222-22222';
const NOW = Date.UTC(2026, 11, 7, 12, 0, 0);
const sha = (c: string) => c.repeat(64);
const ident = (id: string, recipients = ['a@d.example'], body = '1'): MailIdentity => ({ id, bodySha: sha(body), envSha: sha(`${body}${recipients.join()}`.length.toString(16).slice(0, 1)), envelope: { sender: 's@x.example', recipients } });
const logs = (over: Partial<LogSearch> = {}): LogSearch => ({ files: [], deliveries: new Map(), doubtful: new Map(), mentions: new Map(), renames: new Map(), byMessageId: new Map(), midMentions: new Set(), coverageFromMs: NOW - 86_400_000, patternUnusable: false, unparsed: 0, warnings: [], ...over });
const mail: StandbyMail = { id: X, folder: 'spool', timeMs: NOW - 60_000, messageId: '<m@x.example>' };
const at = (line: number, to: string, id = X) => ({ file: '/var/phion/logs/srv_box1_mailgw.log', line, to, id, messageId: '<m@x.example>' });

function judge(o: { where?: [string, SpoolFolder][]; byMid?: [string, { folder: SpoolFolder; id: string }[]][]; logs?: Partial<LogSearch>; standby?: MailIdentity; primary?: MailIdentity[]; vanished?: string[]; needCoverage?: boolean; m?: StandbyMail }) {
  const primary = new Map((o.primary ?? []).map((p) => [p.id, p]));
  return judgeMail(o.m ?? mail, { where: new Map(o.where ?? []), byMid: new Map(o.byMid ?? []), logs: logs(o.logs), marginMs: 3_600_000, needCoverage: o.needCoverage ?? true, standby: o.standby, primaryIdentity: (id) => primary.get(id), vanished: new Set(o.vanished ?? []) });
}

describe('core/recovery/proof: judgeMail', () => {
  it('present: the same gateway id with the same content and envelope; in input/ it is not removable', () => {
    const v = judge({ where: [[X, 'spool']], standby: ident(X), primary: [ident(X)] });
    assert.deepStrictEqual([v.kind, (v as { removable: boolean }).removable], ['present', true]);
    const i = judge({ where: [[X, 'input']], standby: ident(X), primary: [ident(X)] });
    assert.deepStrictEqual([i.kind, (i as { removable: boolean }).removable], ['present', false]);
  });

  it('the same id with other content or recipients is held, naming what differs', () => {
    assert.match((judge({ where: [[X, 'spool']], standby: ident(X), primary: [ident(X, ['a@d.example'], '9')] }) as { why: string }).why, /same gateway id but another content/);
    assert.strictEqual(judge({ where: [[X, 'spool']], standby: undefined, primary: [ident(X)] }).kind, 'unproven');
  });

  it('follows the spooler\'s renames: the renamed copy is this mail when content and envelope agree', () => {
    const v = judge({ where: [[Y, 'spool']], logs: { renames: new Map([[X, [Y]]]) }, standby: ident(X), primary: [{ ...ident(Y), envSha: sha('7') }] });
    assert.strictEqual(v.kind, 'present');
    assert.match((v as { why: string }).why, /renamed 11111-11111-11111 to 22222-22222-22222/);
  });

  it('delivered: a clean delivery line of its id for every recipient; partly delivered is held', () => {
    const rc = ['a@d.example', 'b@e.example'];
    const all = judge({ logs: { deliveries: new Map([[X, [at(5, 'a@d.example'), at(6, 'b@e.example')]]]) }, standby: ident(X, rc) });
    assert.strictEqual(all.kind, 'delivered');
    const part = judge({ logs: { deliveries: new Map([[X, [at(5, 'a@d.example')]]]) }, standby: ident(X, rc) });
    assert.strictEqual(part.kind, 'unproven');
    assert.match((part as { why: string }).why, /delivery to 1 of its 2 recipients .* not to b@e\.example/);
  });

  it('two domains, one Message-ID: the primary delivered the other transaction; this one moves', () => {
    const v = judge({ logs: { byMessageId: new Map([['<m@x.example>', [at(9, 'bob@other.example', Y)]]]) }, standby: ident(X, ['alice@one.example']) });
    assert.strictEqual(v.kind, 'absent');
    assert.match((v as { note: string }).note, /same Message-ID to other recipients: another transaction/);
  });

  it('a list\'s re-send under a delivered Message-ID: another envelope and content on the primary, still moves', () => {
    const v = judge({ where: [[Y, 'spool']], byMid: [['<m@x.example>', [{ folder: 'spool', id: Y }]]], standby: ident(X, ['member@d.example'], '5'), primary: [ident(Y, ['member@d.example'], '6')] });
    assert.strictEqual(v.kind, 'absent');
  });

  it('the same content and envelope under another id, or another id delivered to one of its recipients with its Message-ID: held, never guessed', () => {
    const same = judge({ where: [[Y, 'spool']], byMid: [['<m@x.example>', [{ folder: 'spool', id: Y }]]], standby: ident(X), primary: [{ ...ident(Y), envSha: ident(X).envSha }] });
    assert.match((same as { why: string }).why, /this mail renamed, or the same message sent twice/);
    const overlap = judge({ logs: { byMessageId: new Map([['<m@x.example>', [at(9, 'a@d.example', Y)]]]) }, standby: ident(X) });
    assert.match((overlap as { why: string }).why, /may be this mail under another id, or a second transaction/);
  });

  it('a hostile line naming its id, or any other line naming it without it being there or delivered: held', () => {
    const doubt = judge({ logs: { doubtful: new Map([[X, { file: '/l', line: 3, what: 'a delivery line that proves nothing: it has more than one id= field' }]]) } });
    assert.match((doubt as { why: string }).why, /names it in a delivery line that proves nothing/);
    const named = judge({ logs: { mentions: new Map([[X, { file: '/l', line: 4, what: 'inserted by the spooler' }]]) } });
    assert.match((named as { why: string }).why, /neither in the primary's folders nor delivered/);
  });

  it('a mail without a Message-ID is judged by its id like any other', () => {
    assert.strictEqual(judge({ m: { ...mail, messageId: undefined } }).kind, 'absent');
  });

  it('absent needs the logs to cover its time, unless only proofs of presence are asked for', () => {
    const old = { ...mail, timeMs: NOW - 3 * 86_400_000 };
    assert.match((judge({ m: old }) as { why: string }).why, /logs start at/);
    assert.strictEqual(judge({ m: old, needCoverage: false }).kind, 'absent');
  });

  it('another transaction of its Message-ID that the primary delivered while it was compared (one message to two domains): its delivery lines decide', () => {
    const sibling: [string, { folder: SpoolFolder; id: string }[]] = ['<m@x.example>', [{ folder: 'spool', id: Y }]];
    const moved = judge({ where: [[Y, 'spool']], byMid: [sibling], vanished: [Y], standby: ident(X, ['alice@one.example']), logs: { deliveries: new Map([[Y, [at(7, 'bob@two.example', Y)]]]) } });
    assert.strictEqual(moved.kind, 'absent', JSON.stringify(moved));
    const overlap = judge({ where: [[Y, 'spool']], byMid: [sibling], vanished: [Y], standby: ident(X, ['bob@two.example']), logs: { deliveries: new Map([[Y, [at(7, 'bob@two.example', Y)]]]) } });
    assert.match((overlap as { why: string }).why, /second transaction of the same message/);
    assert.match((judge({ where: [[Y, 'spool']], byMid: [sibling], vanished: [Y], standby: ident(X) }) as { why: string }).why, /left the primary while it was compared, without a delivery line/);
  });

  it('a copy that left the primary while compared counts only by its delivery lines', () => {
    assert.strictEqual(judge({ where: [[X, 'spool']], vanished: [X], standby: ident(X) }).kind, 'unproven');
    assert.strictEqual(judge({ where: [[X, 'spool']], vanished: [X], standby: ident(X), logs: { deliveries: new Map([[X, [at(5, 'a@d.example')]]]) } }).kind, 'delivered');
  });
});
