// For suites of the "lab" group: the lab the runner brought up (test/host/run.ts).
import * as assert from 'assert';
import { Lab } from '../lab/lab';
import { waitFor } from './helpers';

export function hostLab(): Lab {
  const dir = process.env.MAILGW_LAB_STATE;
  if (!dir) throw new Error('MAILGW_LAB_STATE is not set: run the "lab" group through test/host/run.ts');
  return Lab.attach(dir);
}

/**
 * Each transaction (envelope and content: the strand manifest's `transactions`) delivered, then (once
 * the lab is quiet, so no second delivery can come late) exactly once.
 */
export async function deliveredOnce(transactions: readonly string[]): Promise<void> {
  const lab = hostLab();
  await waitFor('all stranded mail delivered', () => (transactions.every((t) => lab.deliveries().byTransaction[t]) ? true : undefined), 20_000, () => JSON.stringify(lab.deliveries().byTransaction));
  await lab.waitForQuiet();
  const d = lab.deliveries();
  assert.deepStrictEqual(transactions.filter((t) => d.byTransaction[t] !== 1), [], 'each transaction delivered exactly once');
}
