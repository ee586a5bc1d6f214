// Where the VS Code host suites and the UI checks keep their lab: its own folder and addresses, so it
// can run while an integration lab is up.
import * as path from 'path';
import { addressesFromEnv, DEFAULT_STATE_DIR, labPair } from '../lab/lab';

export const HOST_LAB_DIR = process.env.MAILGW_HOST_LAB_DIR ?? path.join(DEFAULT_STATE_DIR, 'host');

export function hostLabAddresses(): [string, string] {
  return addressesFromEnv('MAILGW_HOST_LAB_ADDRESSES', labPair(8));
}
