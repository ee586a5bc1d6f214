// For suites of the "lab" group: the lab the runner brought up (test/host/run.ts).
import * as assert from 'assert';
import { Lab } from '../lab/lab';
import { waitFor } from './helpers';

export function hostLab(): Lab {
  const dir = process.env.MAILGW_LAB_STATE;
  if (!dir) throw new Error('MAILGW_LAB_STATE is not set: run the "lab" group through test/host/run.ts');
  return Lab.attach(dir);
}

/** Each Message-ID delivered, then (once the lab is quiet, so no second delivery can come late) exactly once. */
export async function deliveredOnce(mids: readonly string[]): Promise<void> {
  const lab = hostLab();
  await waitFor('all stranded mail delivered', () => (mids.every((m) => lab.deliveries().byMessageId[m]) ? true : undefined), 20_000, () => JSON.stringify(lab.deliveries().byMessageId));
  await lab.waitForQuiet();
  const d = lab.deliveries();
  assert.deepStrictEqual(mids.filter((m) => d.byMessageId[m] !== 1), [], 'each delivered exactly once');
}
