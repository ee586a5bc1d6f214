// What the verbs that change units (recover, held) start from: the one cluster chosen, its recovery
// settings, and its journal — the one the extension shares, unless --journal names another.
import type { ClusterConfig } from '../core/config';
import { adoptOldJournal, defaultJournalFile } from '../core/recovery/journalPath';
import { journalFileFor } from '../core/recovery/journalPath';
import { parseRecoverySettings, RecoverySettings } from '../core/recovery/settings';
import { ParsedArgs, UsageError } from './args';
import { CliContext, CliFailure } from './context';

export interface RecoveryTarget {
  readonly cluster: ClusterConfig;
  readonly settings: RecoverySettings;
  readonly journalFile: string;
}

export function recoveryTarget(ctx: CliContext, args: ParsedArgs): RecoveryTarget {
  if (ctx.clusters.length !== 1) throw new UsageError(`choose a cluster with --cluster NAME (clusters: ${ctx.clusters.map((c) => c.name).join(', ') || 'none'})`);
  const cluster = ctx.clusters[0];
  const { settings, errors } = parseRecoverySettings(ctx.raw);
  for (const e of errors) ctx.logger.warn(e);
  const journalOpt = args.options.get('journal');
  // One journal per cluster and user, shared with the extension (either finishes the other's run).
  const journalFile = typeof journalOpt === 'string' ? journalOpt : defaultJournalFile(cluster);
  if (typeof journalOpt !== 'string') {
    const warning = adoptOldJournal(journalFileFor(ctx.stateDir, cluster.name), journalFile);
    if (warning) throw new CliFailure(warning);
  }
  return { cluster, settings, journalFile };
}
