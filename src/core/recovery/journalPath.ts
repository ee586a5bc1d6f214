// Where a cluster's recovery journal lives by default: one per-user place shared by the extension and
// the CLI, so that either finishes a run the other left unfinished. The folder is named for the
// cluster's units and gateway folder (what physically identifies it), not only for its display name.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type { ClusterConfig } from '../config';
import { gatewayDirs } from '../config';
import { makePrivateDir, stateHome, tightenFile } from '../privateFiles';

export { stateHome };

/** "<name>-<hash of primary, secondary and gateway folder>", safe as a folder name. */
export function clusterKey(cluster: ClusterConfig): string {
  const safe = cluster.name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40) || 'cluster';
  const where = (u: { host: string; port?: number }) => `${u.host}:${u.port ?? 22}`;
  const id = [where(cluster.primary), where(cluster.secondary), gatewayDirs(cluster).base].join('|');
  return `${safe}-${crypto.createHash('sha256').update(id).digest('hex').slice(0, 12)}`;
}

/** The default journal of a cluster: <state home>/mailgw-ha/<cluster key>/journal.jsonl. */
export function defaultJournalFile(cluster: ClusterConfig, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(stateHome(env), 'mailgw-ha', clusterKey(cluster), 'journal.jsonl');
}

/**
 * Earlier versions kept the journal elsewhere (the extension in its global storage, the CLI beside
 * the settings file). An unfinished journal (and its held list) there is moved to the shared place,
 * unless that already has one: then both are kept and the old one is named in the returned warning.
 */
export function adoptOldJournal(oldFile: string, newFile: string): string | undefined {
  const held = (f: string) => f.replace(/\.jsonl$/, '') + '.held.json';
  if (!fs.existsSync(oldFile) && !fs.existsSync(held(oldFile))) return undefined;
  if (fs.existsSync(newFile) || fs.existsSync(held(newFile))) {
    return `an older recovery journal ${oldFile} exists besides ${newFile}; finish the run in ${newFile} first, then move the older one there (or pass --journal ${oldFile})`;
  }
  makePrivateDir(path.dirname(newFile));
  for (const [from, to] of [[oldFile, newFile], [held(oldFile), held(newFile)]]) {
    if (!fs.existsSync(from)) continue;
    fs.renameSync(from, to);
    tightenFile(to);
  }
  return undefined;
}

/** The journal file of a cluster in a folder (cluster names may hold any character). */
export function journalFileFor(dir: string, clusterName: string): string {
  const safe = clusterName.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40);
  const tag = crypto.createHash('sha256').update(clusterName).digest('hex').slice(0, 8);
  return path.join(dir, `recovery-${safe}-${tag}.jsonl`);
}
