// The nodes of the Clusters view: what each row stands for. The tree makes them (one object per
// row, kept while the row exists) and commands receive them as arguments.
import type { ClusterConfig, ConfigError, UnitConfig } from '../core/config';
import type { MailEntry, SpoolFolder } from '../core/spool/list';

export type ClusterTreeNode =
  | { kind: 'error'; error: ConfigError }
  /** A unit that could not be looked at (unreachable, refused, ...): the message says why. */
  | { kind: 'failure'; message: string; cluster: ClusterConfig; unit: UnitConfig }
  | { kind: 'cluster'; cluster: ClusterConfig }
  /** The cluster's HA sync health (lag, standby-only copies, pending actions). */
  | { kind: 'sync'; cluster: ClusterConfig }
  | { kind: 'unit'; cluster: ClusterConfig; unit: UnitConfig }
  | { kind: 'folder'; cluster: ClusterConfig; unit: UnitConfig; folder: SpoolFolder }
  | { kind: 'mail'; cluster: ClusterConfig; unit: UnitConfig; folder: SpoolFolder; mail: MailEntry }
  | { kind: 'more'; cluster: ClusterConfig; unit: UnitConfig; folder: SpoolFolder; shown: number; total: number };

export type FolderNode = Extract<ClusterTreeNode, { kind: 'folder' }>;
export type MailNode = Extract<ClusterTreeNode, { kind: 'mail' }>;
export type UnitNode = Extract<ClusterTreeNode, { kind: 'unit' }>;

/** Mails per page of a folder ("show more" adds another page). */
export const PAGE_SIZE = 200;
