// The VS Code side of log watching shared by the panel, the editor documents and the status bar:
// one LogHub (one SSH follower per unit and file), the cluster the user last chose, and which unit
// of it is active (runs the gateway).
import * as vscode from 'vscode';
import * as safeWindow from '../safeWindow';
import type { ClusterConfig, UnitConfig } from '../core/config';
import { findGateway } from '../core/gateway';
import { findLogFile, LogChoice } from '../core/log/discover';
import { HubLine, LogHub, LogSource } from '../core/log/hub';
import type { Services } from '../services';
import { clusterOfUnitKey } from '../core/keys';

export interface Watch {
  readonly source: LogSource;
  readonly cluster: ClusterConfig;
  readonly unit: UnitConfig;
  release(): void;
}

export class LogWatch implements vscode.Disposable {
  readonly hub = new LogHub();
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when sources, counts or the active unit change (throttled by the listeners). */
  readonly onDidChange = this.changed.event;
  private selected: string | undefined;
  private readonly active = new Map<string, string | null>();
  /** Ids the watched logs show inserted per cluster this session, read-back lines included (kept when a watch ends). */
  private readonly inserted = new Map<string, Set<string>>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly services: Services) {
    this.disposables.push(
      services.onDidChangeSettings(() => {
        // Sources of units that are gone or moved stop with their closed connection; forget them here.
        for (const s of this.hub.all()) if (!services.unit(s.info.unitKey)) void s.stop();
        this.changed.fire();
      }),
    );
    const onState = (key: string, state: string) => {
      const c = clusterOfUnitKey(key);
      if (c !== undefined && state === 'connected' && this.active.get(c) === undefined && this.services.cluster(c)) void this.refreshActive(c);
    };
    services.pool.on('state', onState);
    this.disposables.push({ dispose: () => services.pool.off('state', onState) });
  }

  /** The cluster shown in the status bar: the last one watched, else the only/first one. */
  get selectedCluster(): ClusterConfig | undefined {
    const clusters = this.services.settings.clusters;
    return clusters.find((c) => c.name === this.selected) ?? clusters[0];
  }

  select(cluster: string): void {
    if (this.selected !== cluster) {
      this.selected = cluster;
      this.changed.fire();
    }
  }

  /** null: no unit runs the gateway; undefined: not known yet. */
  activeUnitName(cluster: string): string | null | undefined {
    return this.active.get(cluster);
  }

  /** Looks on both units for the gateway process. */
  async refreshActive(clusterName: string): Promise<UnitConfig | undefined> {
    const cluster = this.services.cluster(clusterName);
    if (!cluster) return undefined;
    const found = await Promise.all(
      cluster.units.map(async (u) => {
        try {
          return (await findGateway(this.services.pool.get(u), cluster)).pids.length > 0 ? u : undefined;
        } catch {
          return undefined;
        }
      }),
    );
    const active = found.filter((u): u is UnitConfig => u !== undefined);
    const unit = active.length === 1 ? active[0] : undefined;
    this.active.set(clusterName, unit ? unit.name : null);
    this.changed.fire();
    return unit;
  }

  /**
   * The gateway log on a unit: the settings' logFile, or the file found there by content
   * (core/log/discover.ts); said once in the output channel. If the look fails, the default name,
   * with the reason.
   */
  async gatewayLog(cluster: ClusterConfig, unit: UnitConfig): Promise<LogChoice> {
    try {
      const choice = await findLogFile(this.services.pool.get(unit), cluster);
      const said = `${unit.key}\n${choice.file}`;
      if (!this.saidLogs.has(said)) {
        this.saidLogs.add(said);
        this.services.logger.info(`${unit.key}: gateway log ${choice.file}: ${choice.why}`);
      }
      return choice;
    } catch (err) {
      const why = `could not look for the gateway log (${(err as Error).message}); following the default ${cluster.logFile}`;
      this.services.logger.warn(`${unit.key}: ${why}`);
      return { file: cluster.logFile, why, fromSettings: false, candidates: [] };
    }
  }
  private readonly saidLogs = new Set<string>();

  /** Starts (or joins) following `file` (default: the cluster's log file) on a unit. */
  watch(cluster: ClusterConfig, unit: UnitConfig, file = cluster.logFile): Watch {
    const { source, release } = this.hub.acquire({ unitKey: unit.key, cluster: cluster.name, file }, this.services.pool.get(unit));
    const onLines = (lines: readonly HubLine[]) => {
      let set = this.inserted.get(cluster.name);
      if (!set) this.inserted.set(cluster.name, (set = new Set()));
      for (const l of lines) if (l.record.kind === 'inserted') for (const id of l.record.ids) set.add(id);
      this.changed.fire();
    };
    source.on('lines', onLines);
    source.start().catch((err: Error) => {
      this.services.logger.error(`${unit.key}: cannot follow ${file}: ${err.message}`);
      void safeWindow.showErrorMessage(`Mail Gateway HA: cannot follow ${file} on ${unit.key}: ${err.message}`);
    });
    this.select(cluster.name);
    if (this.active.get(cluster.name) === undefined) void this.refreshActive(cluster.name);
    return {
      source,
      cluster,
      unit,
      release: () => {
        source.off('lines', onLines);
        release();
        this.changed.fire();
      },
    };
  }

  /**
   * After a settings change: `gone` when the watched unit is no longer configured, `changed` (with
   * the unit as configured now) when its source ended or the unit's or cluster log's settings
   * changed, so the view must follow again on a fresh source; else `current`.
   */
  standing(watch: Watch): { kind: 'current' } | { kind: 'gone' } | { kind: 'changed'; cluster: ClusterConfig; unit: UnitConfig } {
    const ref = this.services.unit(watch.unit.key);
    if (!ref) return { kind: 'gone' };
    const changed = watch.source.ended || JSON.stringify(ref.unit) !== JSON.stringify(watch.unit) || ref.cluster.logFile !== watch.cluster.logFile;
    return changed ? { kind: 'changed', cluster: ref.cluster, unit: ref.unit } : { kind: 'current' };
  }

  /** Mails the logs watched for a cluster showed inserted this session (the same count as the panel's). */
  insertedCount(cluster: string): number {
    return this.inserted.get(cluster)?.size ?? 0;
  }

  dispose(): void {
    this.hub.dispose();
    for (const d of this.disposables) d.dispose();
    this.changed.dispose();
  }
}
