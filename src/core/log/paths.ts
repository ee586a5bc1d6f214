// Which files on a unit the log views may open: the cluster's gateway log and the other files of
// its folder (the rotated logs "Pick Log File…" offers), nothing else — a `mailgw-log:` URI typed
// or linked by anyone cannot name /etc/shadow or climb out with "..". Symlinks are refused on the
// unit by the follower's script (FOLLOW_SCRIPT answers "L").
import * as path from 'path';
import { isSafeAbsolutePath } from '../names';

export function isGatewayLogPath(cluster: { readonly logFile: string }, file: string): boolean {
  if (file === cluster.logFile) return true;
  const dir = path.posix.dirname(cluster.logFile);
  return isSafeAbsolutePath(file) && !file.endsWith('/') && path.posix.normalize(file) === file && path.posix.dirname(file) === dir;
}
