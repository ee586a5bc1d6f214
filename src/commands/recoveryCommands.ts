// Recover Stranded Mail… (the whole safe procedure on a cluster) and the manual way's smaller steps:
// copy selected mails to the primary's input/, send SIGUSR2 to a unit, remove selected mails.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { ClusterConfig, UnitConfig } from '../core/config';
import { gatewayDirs } from '../core/config';
import { findGateway, signalGateway } from '../core/gateway';
import { normalizeMessageId } from '../core/recovery/messageId';
import { describeLeftovers, outcomeText, RunMode } from '../core/recovery/outcome';
import { recoveryReportMarkdown, RunTimings } from '../core/recovery/reportMarkdown';
import { deliveredMessageIds, describePlan, RecoveryPlan } from '../core/recovery/plan';
import { logTail, readMessageIds, removeMails } from '../core/recovery/remote';
import { journalFileFor, recover, RecoveryOptions, RecoveryReport } from '../core/recovery/run';
import { parseRecoverySettings, RecoverySettings } from '../core/recovery/settings';
import type { MailEntry, SpoolFolder } from '../core/spool/list';
import { listFolder } from '../core/spool/list';
import { summaryLines } from '../cli/recover';
import type { Services } from '../services';
import { pickCluster, pickUnit } from './pickUnit';

interface MailNodeLike {
  readonly kind: 'mail';
  readonly cluster: ClusterConfig;
  readonly unit: UnitConfig;
  readonly folder: SpoolFolder;
  readonly mail: MailEntry;
}

function isMailNode(x: unknown): x is MailNodeLike {
  return !!x && typeof x === 'object' && (x as { kind?: unknown }).kind === 'mail' && 'mail' in x && 'unit' in x;
}

/** The mails a (multi-)selection passes: VS Code gives (clicked node, all selected nodes). */
function selectedMails(node: unknown, nodes: unknown): MailNodeLike[] {
  const all = Array.isArray(nodes) && nodes.length ? nodes : [node];
  return all.filter(isMailNode);
}

interface FolderNodeLike {
  readonly kind: 'folder';
  readonly cluster: ClusterConfig;
  readonly unit: UnitConfig;
  readonly folder: SpoolFolder;
}

function isFolderNode(x: unknown): x is FolderNodeLike {
  return !!x && typeof x === 'object' && (x as { kind?: unknown }).kind === 'folder' && 'folder' in x && 'unit' in x;
}

/** Folder nodes of a selection (a folder action, or folders among selected mails). */
function selectedFolders(node: unknown, nodes: unknown): FolderNodeLike[] {
  const all = Array.isArray(nodes) && nodes.length ? nodes : [node];
  return all.filter(isFolderNode);
}

/** Selected mails plus every complete mail of the selected folders, listed now (not from an old look). */
async function mailsOfSelection(services: Services, node: unknown, nodes: unknown): Promise<MailNodeLike[]> {
  const mails = selectedMails(node, nodes);
  const seen = new Set(mails.map((m) => `${m.unit.key}|${m.folder}|${m.mail.id}`));
  for (const f of selectedFolders(node, nodes)) {
    const cluster = services.cluster(f.cluster.name);
    const unit = cluster?.units.find((u) => u.key === f.unit.key);
    if (!cluster || !unit) continue;
    const listing = await listFolder(services.pool.get(unit), cluster, f.folder);
    for (const mail of listing.mails) {
      const k = `${unit.key}|${f.folder}|${mail.id}`;
      if (seen.has(k)) continue;
      seen.add(k);
      mails.push({ kind: 'mail', cluster, unit, folder: f.folder, mail });
    }
  }
  return mails;
}

function recoverySettings(services: Services): RecoverySettings {
  const cfg = vscode.workspace.getConfiguration('mailgwHa');
  const { settings, errors } = parseRecoverySettings({ 'mailgwHa.signalMethod': cfg.get('signalMethod'), 'mailgwHa.deliveryLogPattern': cfg.get('deliveryLogPattern') });
  for (const e of errors) services.logger.warn(e);
  return settings;
}

function journalDir(services: Services): string {
  return path.join(services.context.globalStorageUri.fsPath, 'recovery');
}

function planDetail(plan: RecoveryPlan): string {
  const lines = [describePlan(plan), ''];
  const show = (title: string, items: readonly { id: string; reason?: string }[]) => {
    if (!items.length) return;
    lines.push(`${title}:`);
    for (const i of items.slice(0, 8)) lines.push(`  ${i.id}${i.reason ? ` — ${i.reason}` : ''}`);
    if (items.length > 8) lines.push(`  … and ${items.length - 8} more`);
  };
  show('Duplicates (skipped)', plan.duplicates);
  show('Incomplete (skipped, reported)', plan.incomplete);
  lines.push('', `Each mail is copied to a hidden name in ${plan.primary}'s input/, verified (size and SHA-256), renamed into place, inserted by SIGUSR2 (PID ${plan.primaryPid}), confirmed in the log, and only then removed from ${plan.secondary}. An interruption is finished or undone by the next run.`);
  return lines.join('\n');
}

async function runWithProgress(services: Services, cluster: ClusterConfig, title: string, extra: Partial<RecoveryOptions>, mode: RunMode = 'recover'): Promise<RecoveryReport | undefined> {
  const settings = recoverySettings(services);
  const startedAt = Date.now();
  const phases: RunTimings['phases'][number][] = [];
  let confirmWaitMs = 0;
  let confirmedIds: readonly string[] = [];
  const confirmPlan = extra.confirmPlan;
  const report = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
    let lastPct = 0;
    return recover({
      pool: services.pool,
      cluster,
      settings,
      journalFile: journalFileFor(journalDir(services), cluster.name),
      cancellation: token,
      logger: services.logger,
      onProgress: (p) => {
        if (phases[phases.length - 1]?.phase !== p.phase) phases.push({ phase: p.phase, at: Date.now() });
        const pct = p.total ? Math.round((100 * (p.done ?? 0)) / p.total) : undefined;
        const increment = pct !== undefined && p.phase === 'confirm' ? Math.max(0, pct - lastPct) : undefined;
        if (pct !== undefined && p.phase === 'confirm') lastPct = pct;
        progress.report({ message: p.message, increment });
      },
      onEvent: (e) => {
        if (e.confirmedIds) confirmedIds = e.confirmedIds;
        services.recoveryEvents.fire(e);
      },
      ...extra,
      // The time the dialog waits for the user is not the recovery's: measured to be left out.
      ...(confirmPlan
        ? {
            confirmPlan: async (plan: Parameters<NonNullable<RecoveryOptions['confirmPlan']>>[0]) => {
              const t0 = Date.now();
              try {
                return await confirmPlan(plan);
              } finally {
                confirmWaitMs += Date.now() - t0;
              }
            },
          }
        : {}),
    });
  });
  for (const l of summaryLines(report)) (report.outcome === 'failed' ? services.logger.error : services.logger.info).call(services.logger, l);
  services.recoveryReports.fire(report);
  void vscode.commands.executeCommand('mailgwHa.refresh');
  const units = { primary: cluster.primary.name, secondary: cluster.secondary.name };
  const readable = writeReadableReport(services, report, { phases, startedAt, endedAt: Date.now(), confirmWaitMs, confirmedIds }, units);
  const left = { recoverable: 0, duplicates: report.skippedDuplicates, incomplete: report.skippedOrphans };
  const head = outcomeText(report, mode, units) + (mode === 'recover' && report.outcome === 'done' && (left.duplicates || left.incomplete) ? `. Left on ${cluster.secondary.name}: ${describeLeftovers(left).text}; next: ${describeLeftovers(left).next}` : '');
  const show = report.outcome === 'failed' ? vscode.window.showErrorMessage : report.outcome === 'cancelled' ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
  const detail = report.errors.length ? ` ${report.errors.length} error(s): ${report.errors[0].message}` : '';
  // Choosing one button closes a notification: it comes back with the others, so "Open Report"
  // does not take "Show Log" away (and the other way round).
  const offer = (buttons: string[]): void => {
    if (!buttons.length) return;
    void show(`${head}.${detail}`, ...buttons).then((c) => {
      if (!c) return;
      if (c === 'Show Log') services.output.show(true);
      if (c === 'Open Report') void openReport(readable, report.reportFile);
      offer(buttons.filter((b) => b !== c));
    });
  };
  offer(['Show Log', ...(readable || report.reportFile ? ['Open Report'] : [])]);
  return readable ? Object.assign(report, { readableReportFile: readable }) : report;
}

/** Writes the markdown report beside the JSON one; undefined if there is no JSON report or it cannot be written. */
function writeReadableReport(services: Services, report: RecoveryReport, timings: RunTimings, units: { primary: string; secondary: string }): string | undefined {
  if (!report.reportFile) return undefined;
  const file = report.reportFile.replace(/\.json$/, '') + '.md';
  try {
    fs.writeFileSync(file, recoveryReportMarkdown(report, timings, units));
    return file;
  } catch (e) {
    services.logger.warn(`cannot write the readable recovery report: ${(e as Error).message}`);
    return undefined;
  }
}

/** The readable report in the markdown preview (read-only); the JSON as a fallback. */
async function openReport(readable: string | undefined, json: string | undefined): Promise<void> {
  if (readable) await vscode.commands.executeCommand('markdown.showPreview', vscode.Uri.file(readable));
  else if (json) await vscode.window.showTextDocument(vscode.Uri.file(json), { preview: true });
}

export function registerRecoveryCommands(services: Services): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand('mailgwHa.recover', async (arg?: unknown, opts?: { yes?: boolean }): Promise<RecoveryReport | undefined> => {
      const cluster = await pickCluster(services, arg, 'Recover stranded mail of which cluster?');
      if (!cluster) return undefined;
      // On a folder of the secondary: only that folder's mails.
      const folder = isFolderNode(arg) && arg.unit.key === cluster.secondary.key && arg.folder !== 'input' ? arg.folder : undefined;
      return runWithProgress(services, cluster, `Recovering stranded mail: ${cluster.name}${folder ? ` (${folder}/)` : ''}`, {
        ...(folder ? { folders: [folder] } : {}),
        confirmPlan: async (plan) => {
          if (plan.move.length === 0) return true;
          if (opts?.yes) return true; // tests and scripts that already confirmed
          const go = `Recover ${plan.move.length} Mail${plan.move.length === 1 ? '' : 's'}`;
          const c = await vscode.window.showWarningMessage(`Recover ${plan.move.length} mail(s) from ${plan.secondary} to ${plan.primary}?`, { modal: true, detail: planDetail(plan) }, go);
          return c === go;
        },
      });
    }),

    // `opts.yes` skips the modal (scripts and tests that confirmed already).
    vscode.commands.registerCommand('mailgwHa.copyToPrimary', async (node?: unknown, nodes?: unknown, opts?: { yes?: boolean }): Promise<RecoveryReport | undefined> => {
      // Folders in the selection: their complete mails except duplicates (the primary has them);
      // mails picked one by one are copied as picked.
      const byFolder = selectedFolders(node, nodes).length > 0;
      let all: MailNodeLike[];
      try {
        all = await mailsOfSelection(services, node, nodes);
      } catch (e) {
        void vscode.window.showErrorMessage(`Copy to Primary: cannot list the selected folders: ${(e as Error).message}`);
        return undefined;
      }
      const mails = all.filter((m) => m.mail.complete);
      if (mails.length === 0) {
        void vscode.window.showInformationMessage('Mail Gateway HA: select complete mails on the secondary unit in the Clusters view.');
        return undefined;
      }
      const cluster = services.cluster(mails[0].cluster.name);
      if (!cluster || mails.some((m) => m.unit.key !== cluster.secondary.key)) {
        void vscode.window.showErrorMessage(`Copy to Primary works on mails of the secondary unit${cluster ? ` (${cluster.secondary.key})` : ''}.`);
        return undefined;
      }
      const go = `Copy ${mails.length} Mail${mails.length === 1 ? '' : 's'}`;
      const c = opts?.yes
        ? go
        : await vscode.window.showWarningMessage(
        `Copy ${mails.length} mail(s) to ${cluster.primary.key}'s input/?`,
        { modal: true, detail: `${byFolder ? 'Mails whose Message-ID the primary already holds or delivered are skipped. ' : ''}They are copied under hidden names, verified (size and SHA-256) and renamed into place; nothing is overwritten. The gateway inserts them on the next SIGUSR2 ("Send SIGUSR2 to Gateway"). The originals stay on ${cluster.secondary.key} until you remove them.` },
        go,
      );
      if (c !== go) return undefined;
      return runWithProgress(services, cluster, `Copying ${mails.length} mail(s) to ${cluster.primary.key}`, {
        onlyIds: new Set(mails.map((m) => m.mail.id)),
        folders: [...new Set(mails.map((m) => m.folder))].filter((f) => f !== 'input'),
        includeDuplicates: !byFolder,
        stopAfterPlace: true,
      }, 'copy');
    }),

    vscode.commands.registerCommand('mailgwHa.signalGateway', async (arg?: unknown, opts?: { yes?: boolean }): Promise<{ pid?: number; command: string; error?: string } | undefined> => {
      const ref = await pickUnit(services, arg, 'Send SIGUSR2 to the gateway on which unit?');
      if (!ref) return undefined;
      const conn = services.pool.get(ref.unit);
      const method = recoverySettings(services).signalMethod;
      try {
        const found = await findGateway(conn, ref.cluster);
        if (method === 'pid' && found.pids.length !== 1) {
          const error = found.pids.length ? `${ref.unit.key}: ${found.pids.length} processes named ${found.processName} (PIDs ${found.pids.join(', ')}); refusing to guess.` : `${ref.unit.key}: the gateway ${found.processName} is not running; nothing to signal. Is this the active unit?`;
          services.logger.error(error);
          showErrorEachTime(error);
          return { command: '', error };
        }
        const what = method === 'pid' ? `${found.processName}, PID ${found.pids[0]}` : `/bin/kill -s SIGUSR2 ${ref.cluster.gateway}`;
        const go = 'Send SIGUSR2';
        const c = opts?.yes ? go : await vscode.window.showWarningMessage(`Send SIGUSR2 to the gateway on ${ref.unit.key} (${what})?`, { modal: true, detail: `The gateway then inserts every complete mail in ${gatewayDirs(ref.cluster).input}.` }, go);
        if (c !== go) return undefined;
        const r = await signalGateway(conn, ref.cluster, method);
        if (method === 'pid' && r.pid !== found.pids[0]) services.logger.warn(`${ref.unit.key}: the gateway's PID changed from ${found.pids[0]} to ${r.pid} meanwhile; signalled ${r.pid}`);
        services.logger.info(`${ref.unit.key}: sent SIGUSR2: ${r.command}`);
        void vscode.window.showInformationMessage(`${ref.unit.key}: SIGUSR2 sent to ${r.processName}${r.pid !== undefined ? ` (PID ${r.pid})` : ''}.`);
        void vscode.commands.executeCommand('mailgwHa.refresh');
        return { pid: r.pid, command: r.command };
      } catch (e) {
        const error = (e as Error).message;
        services.logger.error(error);
        showErrorEachTime(error, 'Show Log').then((x) => x && services.output.show(true));
        return { command: '', error };
      }
    }),

    vscode.commands.registerCommand('mailgwHa.removeMails', async (node?: unknown, nodes?: unknown, opts?: { confirmUnconfirmed?: boolean; yes?: boolean }): Promise<{ removed: string[] } | undefined> => {
      const mails = selectedMails(node, nodes);
      if (mails.length === 0) {
        void vscode.window.showInformationMessage('Mail Gateway HA: select mails in the Clusters view first.');
        return undefined;
      }
      const unit = mails[0].unit;
      const cluster = services.cluster(mails[0].cluster.name);
      if (!cluster || mails.some((m) => m.unit.key !== unit.key)) {
        void vscode.window.showErrorMessage('Remove Mails: select mails of one unit at a time.');
        return undefined;
      }
      const other = cluster.units.find((u) => u.key !== unit.key)!;
      try {
        const confirmed = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Looking for the selected mails on ${other.key}…` }, () => confirmedOnOther(services, cluster, unit, other, mails));
        const sure = mails.filter((m) => confirmed.get(m.mail.id));
        const unsure = mails.filter((m) => !confirmed.get(m.mail.id));
        const toRemove = [...sure];
        if (sure.length) {
          const go = `Remove ${sure.length}`;
          const c = opts?.yes ? go : await vscode.window.showWarningMessage(`Remove ${sure.length} mail(s) from ${unit.key}?`, { modal: true, detail: `Their Message-IDs were found on ${other.key}:\n${sure.slice(0, 10).map((m) => `  ${m.mail.id}: ${confirmed.get(m.mail.id)}`).join('\n')}` }, go);
          if (c !== go) return undefined;
        }
        if (unsure.length) {
          const go = `Delete ${unsure.length} Mail${unsure.length === 1 ? '' : 's'} Not Found on ${other.name}`;
          // Scripted calls (opts.yes) remove unconfirmed mails only with opts.confirmUnconfirmed.
          const c = opts?.yes
            ? opts.confirmUnconfirmed
              ? go
              : undefined
            : await vscode.window.showWarningMessage(
                `${unsure.length} selected mail(s) are NOT confirmed on ${other.key}. Deleting them may lose mail.`,
                { modal: true, detail: `Not found there (no same Message-ID in spool/, vscan/, input/ or its delivery log):\n${unsure.slice(0, 10).map((m) => `  ${m.folder}/${m.mail.id}`).join('\n')}${unsure.length > 10 ? `\n  … and ${unsure.length - 10} more` : ''}` },
                go,
              );
          if (c === go) toRemove.push(...unsure);
        }
        const dirs = gatewayDirs(cluster);
        const byFolder = new Map<SpoolFolder, string[]>();
        for (const m of toRemove) byFolder.set(m.folder, [...(byFolder.get(m.folder) ?? []), m.mail.id]);
        const conn = services.pool.get(unit);
        for (const [folder, ids] of byFolder) await removeMails(conn, dirs[folder], ids);
        const removed = toRemove.map((m) => m.mail.id);
        services.logger.info(`${unit.key}: removed ${removed.length} mail(s) by name: ${removed.join(', ')}`);
        void vscode.commands.executeCommand('mailgwHa.refresh');
        if (removed.length) void vscode.window.showInformationMessage(`${unit.key}: removed ${removed.length} mail(s).`);
        return { removed };
      } catch (e) {
        services.logger.error((e as Error).message);
        void vscode.window.showErrorMessage((e as Error).message, 'Show Log').then((x) => x && services.output.show(true));
        return undefined;
      }
    }),
  ];
}

/**
 * An error notification that shows on every try: VS Code drops a notification equal to one still
 * open (same text and severity), so a second failed try would show nothing. The time tells the
 * tries apart.
 */
function showErrorEachTime(text: string, ...buttons: string[]): Thenable<string | undefined> {
  return vscode.window.showErrorMessage(`${text} (${new Date().toLocaleTimeString()})`, ...buttons);
}

/** For each selected mail: where the other unit holds (or delivered) the same Message-ID, if it does. */
async function confirmedOnOther(services: Services, cluster: ClusterConfig, unit: UnitConfig, other: UnitConfig, mails: readonly MailNodeLike[]): Promise<Map<string, string | undefined>> {
  const dirs = gatewayDirs(cluster);
  const conn = services.pool.get(unit);
  const oconn = services.pool.get(other);
  const mine = new Map<string, string | undefined>();
  const byFolder = new Map<SpoolFolder, string[]>();
  for (const m of mails) if (m.mail.body) byFolder.set(m.folder, [...(byFolder.get(m.folder) ?? []), m.mail.id]);
  for (const [folder, ids] of byFolder) for (const [id, mid] of await readMessageIds(conn, dirs[folder], ids)) mine.set(id, mid);
  const where = new Map<string, string>();
  for (const folder of ['spool', 'vscan', 'input'] as const) {
    const l = await listFolder(oconn, cluster, folder);
    const mids = await readMessageIds(oconn, dirs[folder], l.mails.filter((m) => m.body).map((m) => m.id));
    for (const [id, mid] of mids) if (mid) where.set(normalizeMessageId(mid), `in ${folder}/ as ${id}`);
  }
  const delivered = deliveredMessageIds(await logTail(oconn, cluster.logFile, 16 * 1024 * 1024), recoverySettings(services).deliveryLogPattern);
  const out = new Map<string, string | undefined>();
  for (const m of mails) {
    const mid = mine.get(m.mail.id);
    const key = mid ? normalizeMessageId(mid) : undefined;
    out.set(m.mail.id, key ? (where.get(key) ?? (delivered.has(key) ? 'delivered (log)' : undefined)) : undefined);
  }
  return out;
}
