// For suites of the "lab" group: the lab the runner brought up (test/host/run.ts).
import { Lab } from '../lab/lab';

export function hostLab(): Lab {
  const dir = process.env.MAILGW_LAB_STATE;
  if (!dir) throw new Error('MAILGW_LAB_STATE is not set: run the "lab" group through test/host/run.ts');
  return Lab.attach(dir);
}
