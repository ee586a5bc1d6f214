// Recover Stranded Mail… (the whole safe procedure on a cluster) and the manual way's smaller steps:
// copy selected mails to the primary's input/, send SIGUSR2 to a unit, remove selected mails.
import * as path from 'path';
import * as vscode from 'vscode';
import * as safeWindow from '../safeWindow';
import { messageText } from '../core/text/message';
import { readRecoverySettings } from '../settings';
import type { ClusterConfig } from '../core/config';
import { gatewayDirs } from '../core/config';
import { findGateway, pidSignalRefusal, signalGateway } from '../core/gateway';
import { removalEntry, signalEntry } from '../core/audit/actions';
import { describeLogs, describePlan, RecoveryPlan } from '../core/recovery/plan';
import { removeMails } from '../core/recovery/remote';
import { decideRemoval, refuseUnit } from '../core/recovery/removalProof';
import { withClusterLock } from '../core/recovery/clusterLock';
import { listHeldMails } from '../core/recovery/held';
import { adoptOldJournal, defaultJournalFile, journalFileFor } from '../core/recovery/journalPath';
import { describeLeftovers, outcomeText, RunMode } from '../core/recovery/outcome';
import { recoveryReportMarkdown, RunTimings } from '../core/recovery/reportMarkdown';
import { recover } from '../core/recovery/run';
import { writePrivateFile } from '../core/privateFiles';
import type { RecoveryOptions, RecoveryReport } from '../core/recovery/runContract';
import { listFolder } from '../core/spool/list';
import type { SpoolFolder } from '../core/spool/list';
import { summaryLines } from '../core/recovery/summaryLines';
import type { ClusterTreeProvider } from '../views/clusterTree';
import type { FolderNode, MailNode } from '../views/clusterTreeNodes';
import type { Services } from '../services';
import { pickCluster, pickUnit } from './pickUnit';

// Nodes arrive as command arguments: shaped like the tree's nodes, but checked, and their cluster
// and unit looked up again before use.
function isMailNode(x: unknown): x is MailNode {
  return !!x && typeof x === 'object' && (x as { kind?: unknown }).kind === 'mail' && 'mail' in x && 'unit' in x;
}

/**
 * The mails a (multi-)selection passes: VS Code gives (clicked node, all selected nodes). A node's
 * cluster and unit are looked up again in the settings by name, so an argument (a command link,
 * another extension) can name a mail but never choose where to connect.
 */
function selectedMails(services: Services, node: unknown, nodes: unknown): MailNode[] {
  const all = Array.isArray(nodes) && nodes.length ? nodes : [node];
  return all.filter(isMailNode).flatMap((m) => {
    const ref = typeof m.unit?.key === 'string' ? services.unit(m.unit.key) : undefined;
    return ref ? [{ ...m, cluster: ref.cluster, unit: ref.unit }] : [];
  });
}

/** A folder action's target: only a standby's spool/ or vscan/ (input/ is where copies go, not come from). */
function isFolderNode(x: unknown): x is FolderNode {
  if (!x || typeof x !== 'object' || (x as { kind?: unknown }).kind !== 'folder' || !('unit' in x)) return false;
  const folder = (x as { folder?: unknown }).folder;
  return folder === 'spool' || folder === 'vscan';
}

/** Folder nodes of a selection (a folder action, or folders among selected mails). */
function selectedFolders(node: unknown, nodes: unknown): FolderNode[] {
  const all = Array.isArray(nodes) && nodes.length ? nodes : [node];
  return all.filter(isFolderNode);
}

/** Selected mails plus every complete mail of the selected folders, listed now (not from an old look). */
async function mailsOfSelection(services: Services, node: unknown, nodes: unknown): Promise<MailNode[]> {
  const mails = selectedMails(services, node, nodes);
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
  show(`Duplicates (not moved; removed from ${plan.secondary} after the moved mails are confirmed, if proved again then)`, plan.duplicates);
  show(`Held for a decision (left on ${plan.secondary})`, plan.held);
  show('Incomplete (skipped, reported)', plan.incomplete);
  if (plan.warnings.length) lines.push('Warnings:', ...plan.warnings.map((w) => `  ${w}`));
  lines.push(`Logs of ${plan.primary} searched for deliveries:`, ...describeLogs(plan).map((l) => `  ${l}`));
  lines.push('', `Each mail is copied to a hidden name in ${plan.primary}'s input/, verified (size and SHA-256), renamed into place, inserted by SIGUSR2 (PID ${plan.primaryPid}), confirmed in the log, and only then removed from ${plan.secondary}. An interruption is finished or undone by the next run.`);
  return lines.join('\n');
}

async function runWithProgress(ui: RecoveryUi, cluster: ClusterConfig, title: string, extra: Partial<RecoveryOptions>, mode: RunMode = 'recover'): Promise<RecoveryReport | undefined> {
  const { services } = ui;
  const settings = readRecoverySettings(services.logger);
  // The journal the CLI uses too, so that either finishes a run the other left unfinished.
  const journalFile = defaultJournalFile(cluster);
  const warning = adoptOldJournal(journalFileFor(journalDir(services), cluster.name), journalFile);
  if (warning) {
    void safeWindow.showErrorMessage(`Mail Gateway HA: ${warning}`);
    return undefined;
  }
  const startedAt = Date.now();
  const phases: RunTimings['phases'][number][] = [];
  let confirmWaitMs = 0;
  let confirmedIds: readonly string[] = [];
  const confirmPlan = extra.confirmPlan;
  const report = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: messageText(title), cancellable: true }, async (progress, token) => {
    let lastPct = 0;
    return recover({
      pool: services.pool,
      cluster,
      settings,
      journalFile,
      cancellation: token,
      logger: services.logger,
      onProgress: (p) => {
        if (phases[phases.length - 1]?.phase !== p.phase) phases.push({ phase: p.phase, at: Date.now() });
        const pct = p.total ? Math.round((100 * (p.done ?? 0)) / p.total) : undefined;
        const increment = pct !== undefined && p.phase === 'confirm' ? Math.max(0, pct - lastPct) : undefined;
        if (pct !== undefined && p.phase === 'confirm') lastPct = pct;
        progress.report({ message: messageText(p.message, { max: 300 }), increment });
      },
      onEvent: (e) => {
        if (e.confirmedIds) confirmedIds = e.confirmedIds;
        services.recoveryEvents.fire(e);
      },
      client: 'VS Code extension',
      audit: services.audit(),
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
  if (report.lockedBy) return lockRefused(ui, cluster, title, extra, report, mode);
  for (const l of summaryLines(report)) (report.outcome === 'failed' ? services.logger.error : services.logger.info).call(services.logger, l);
  services.recoveryReports.fire(report);
  void ui.tree.refreshWithProgress();
  const units = { primary: cluster.primary.name, secondary: cluster.secondary.name };
  const readable = writeReadableReport(services, report, { phases, startedAt, endedAt: Date.now(), confirmWaitMs, confirmedIds }, units);
  const left = { recoverable: 0, duplicates: Math.max(0, report.skippedDuplicates - report.removedDuplicates), incomplete: report.skippedOrphans, held: report.heldForDecision };
  const head = outcomeText(report, mode, units) + (mode === 'recover' && report.outcome === 'done' && (left.duplicates || left.incomplete || left.held) ? `. Left on ${cluster.secondary.name}: ${describeLeftovers(left).text}; next: ${describeLeftovers(left).next}` : '');
  const show = report.outcome === 'failed' ? safeWindow.showErrorMessage : report.outcome === 'cancelled' ? safeWindow.showWarningMessage : safeWindow.showInformationMessage;
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
    writePrivateFile(file, recoveryReportMarkdown(report, timings, units));
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

/** Another recovery holds the cluster's lock: name it; a stale one may be taken over after a modal. */
async function lockRefused(ui: RecoveryUi, cluster: ClusterConfig, title: string, extra: Partial<RecoveryOptions>, report: RecoveryReport, mode: RunMode): Promise<RecoveryReport> {
  const { services } = ui;
  const message = report.errors[0]?.message ?? 'another recovery holds the lock';
  services.logger.warn(message);
  if (!report.lockedBy?.stale || extra.takeOverStaleLock) {
    void safeWindow.showErrorMessage(`${cluster.name}: ${message}`);
    return report;
  }
  const keep = 'Leave the Lock';
  const go = 'Take Over Lock';
  // The first item is the dialog's default button: the one that changes nothing.
  const c = await safeWindow.showWarningMessage(`${cluster.name}: the recovery lock on ${cluster.primary.key} looks stale.`, { modal: true, detail: `${message}\n\nTake it over only if you are sure that run no longer works on this cluster (two recoveries at once can deliver mail twice).` }, keep, go);
  if (c !== go) return report;
  return (await runWithProgress(ui, cluster, title, { ...extra, takeOverStaleLock: true }, mode)) ?? report;
}

/**
 * Confirmations skipped: only the test-mode API (src/testApi.ts) passes these. The registered
 * commands never do, whatever arguments a caller (a command link, another extension) gives them.
 */
export interface TestConfirmations {
  readonly yes?: boolean;
}

export interface RecoveryActions {
  recover(arg?: unknown, opts?: TestConfirmations): Promise<RecoveryReport | undefined>;
  copyToPrimary(node?: unknown, nodes?: unknown, opts?: TestConfirmations): Promise<RecoveryReport | undefined>;
  signalGateway(arg?: unknown, opts?: TestConfirmations): Promise<{ pid?: number; command: string; error?: string } | undefined>;
  removeMails(node?: unknown, nodes?: unknown, opts?: TestConfirmations): Promise<{ removed: string[] } | undefined>;
  heldMails(arg?: unknown): Promise<RecoveryReport | undefined>;
}

/** What the recovery commands work with: the services, and the tree they refresh after a change. */
interface RecoveryUi {
  readonly services: Services;
  readonly tree: Pick<ClusterTreeProvider, 'refreshWithProgress'>;
}

export function registerRecoveryCommands(services: Services, tree: ClusterTreeProvider): vscode.Disposable[] {
  const a = recoveryActions(services, tree);
  // Arguments beyond the target are dropped here: no caller can skip a dialog.
  return [
    vscode.commands.registerCommand('mailgwHa.recover', (arg?: unknown) => a.recover(arg)),
    vscode.commands.registerCommand('mailgwHa.copyToPrimary', (node?: unknown, nodes?: unknown) => a.copyToPrimary(node, nodes)),
    vscode.commands.registerCommand('mailgwHa.signalGateway', (arg?: unknown) => a.signalGateway(arg)),
    vscode.commands.registerCommand('mailgwHa.removeMails', (node?: unknown, nodes?: unknown) => a.removeMails(node, nodes)),
    vscode.commands.registerCommand('mailgwHa.heldMails', (arg?: unknown) => a.heldMails(arg)),
  ];
}

export function recoveryActions(services: Services, tree: ClusterTreeProvider): RecoveryActions {
  const ui: RecoveryUi = { services, tree };
  return {
    recover: async (arg?: unknown, opts?: TestConfirmations): Promise<RecoveryReport | undefined> => {
      const cluster = await pickCluster(services, arg, 'Recover stranded mail of which cluster?');
      if (!cluster) return undefined;
      // On a folder of the secondary: only that folder's mails.
      const folder = isFolderNode(arg) && arg.unit.key === cluster.secondary.key && arg.folder !== 'input' ? arg.folder : undefined;
      return runWithProgress(ui, cluster, `Recovering stranded mail: ${cluster.name}${folder ? ` (${folder}/)` : ''}`, {
        ...(folder ? { folders: [folder] } : {}),
        confirmPlan: async (plan) => {
          if (plan.move.length === 0 && plan.duplicates.length === 0) return true;
          if (opts?.yes) return true; // the test-mode API only
          const go = `Recover ${plan.move.length} Mail${plan.move.length === 1 ? '' : 's'}`;
          const c = await safeWindow.showWarningMessage(`Recover ${plan.move.length} mail(s) from ${plan.secondary} to ${plan.primary}?`, { modal: true, detail: planDetail(plan) }, go);
          return c === go;
        },
      });
    },

    // Held mails: list with why; resolve one after a modal that says what the admin must have checked.
    heldMails: async (arg?: unknown): Promise<RecoveryReport | undefined> => {
      const cluster = await pickCluster(services, arg, 'Held mails of which cluster?');
      if (!cluster) return undefined;
      const journalFile = defaultJournalFile(cluster);
      try {
        const { mails, warnings } = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: messageText(`Looking for held mails of ${cluster.name}…`) }, () => listHeldMails(services.pool, cluster, journalFile, readRecoverySettings(services.logger).deliveryLogPattern));
        for (const w of warnings) services.logger.warn(`${cluster.name}: ${w}`);
        if (mails.length === 0) {
          void safeWindow.showInformationMessage(`${cluster.name}: no mail is held for a decision.${warnings.length ? ` ${warnings.length} warning(s) in the log.` : ''}`);
          return undefined;
        }
        const pick = await vscode.window.showQuickPick(
          mails.map((m) => ({
            label: messageText(m.id, { max: 100 }),
            description: messageText(`${m.folder ? `${m.folder}/` : 'no longer on the standby'}${m.messageId ? ` ${m.messageId}` : ''}`, { max: 300 }),
            detail: messageText(`${m.source === 'journal' ? 'Held by an interrupted run' : 'Held by the plan'}: ${m.why}`, { max: 500 }),
            mail: m,
          })),
          { title: messageText(`${cluster.name}: ${mails.length} mail(s) held on ${cluster.secondary.key}`), placeHolder: 'Pick a mail to resolve', matchOnDescription: true, matchOnDetail: true },
        );
        if (!pick) return undefined;
        const later = 'Decide Later';
        const insert = `Insert into ${cluster.primary.name}`;
        const discard = `Discard the Copy on ${cluster.secondary.name}`;
        // The first item is the dialog's default button: the one that changes nothing.
        const c = await safeWindow.showWarningMessage(
          `${pick.mail.id} is held: decide what happens to it.`,
          { modal: true, detail: `Why: ${pick.mail.why}\n\nInsert only if you checked it was NOT delivered (e.g. with the recipients): it is copied to ${cluster.primary.key}, inserted and confirmed, then removed from ${cluster.secondary.key}.\nDiscard only if you checked it WAS delivered: the copy on ${cluster.secondary.key} is removed.` },
          later,
          insert,
          discard,
        );
        if (c !== insert && c !== discard) return undefined;
        return runWithProgress(ui, cluster, `${c === insert ? 'Inserting' : 'Discarding'} held mail ${pick.mail.id}`, { resolveHeld: { id: pick.mail.id, action: c === insert ? 'insert' : 'discard' } });
      } catch (e) {
        services.logger.error((e as Error).message);
        void safeWindow.showErrorMessage((e as Error).message, 'Show Log').then((x) => x && services.output.show(true));
        return undefined;
      }
    },

    copyToPrimary: async (node?: unknown, nodes?: unknown, opts?: TestConfirmations): Promise<RecoveryReport | undefined> => {
      // Folders in the selection: their complete mails except duplicates (the primary has them);
      // mails picked one by one are copied as picked.
      const byFolder = selectedFolders(node, nodes).length > 0;
      let all: MailNode[];
      try {
        all = await mailsOfSelection(services, node, nodes);
      } catch (e) {
        void safeWindow.showErrorMessage(`Copy to Primary: cannot list the selected folders: ${(e as Error).message}`);
        return undefined;
      }
      const mails = all.filter((m) => m.mail.complete);
      if (mails.length === 0) {
        void safeWindow.showInformationMessage('Mail Gateway HA: select complete mails on the secondary unit in the Clusters view.');
        return undefined;
      }
      const cluster = services.cluster(mails[0].cluster.name);
      if (!cluster || mails.some((m) => m.unit.key !== cluster.secondary.key)) {
        void safeWindow.showErrorMessage(`Copy to Primary works on mails of the secondary unit${cluster ? ` (${cluster.secondary.key})` : ''}.`);
        return undefined;
      }
      const go = `Copy ${mails.length} Mail${mails.length === 1 ? '' : 's'}`;
      const c = opts?.yes
        ? go
        : await safeWindow.showWarningMessage(
        `Copy ${mails.length} mail(s) to ${cluster.primary.key}'s input/?`,
        { modal: true, detail: `${byFolder ? 'Mails the primary already holds (same id, content and envelope) or delivered to every recipient are skipped, and so are mails that cannot be proved either way. ' : ''}They are copied under hidden names, verified (size and SHA-256) and renamed into place; nothing is overwritten. The gateway inserts them on the next SIGUSR2 ("Send SIGUSR2 to Gateway"). The originals stay on ${cluster.secondary.key} until you remove them.` },
        go,
      );
      if (c !== go) return undefined;
      return runWithProgress(ui, cluster, `Copying ${mails.length} mail(s) to ${cluster.primary.key}`, {
        onlyIds: new Set(mails.map((m) => m.mail.id)),
        folders: [...new Set(mails.map((m) => m.folder))].filter((f) => f !== 'input'),
        includeDuplicates: !byFolder,
        stopAfterPlace: true,
      }, 'copy');
    },

    signalGateway: async (arg?: unknown, opts?: TestConfirmations): Promise<{ pid?: number; command: string; error?: string } | undefined> => {
      const ref = await pickUnit(services, arg, 'Send SIGUSR2 to the gateway on which unit?');
      if (!ref) return undefined;
      const conn = services.pool.get(ref.unit);
      const method = readRecoverySettings(services.logger).signalMethod;
      try {
        const found = await findGateway(conn, ref.cluster);
        const error = method === 'pid' ? pidSignalRefusal(found, ref.unit.key) : undefined;
        if (error) {
          services.logger.error(error);
          showErrorEachTime(error);
          return { command: '', error };
        }
        // Not sent if it could not be audited; once sent, a failed append is a warning in the log.
        const audit = services.audit();
        const unaudited = audit.probe();
        if (unaudited) {
          const msg = `${ref.unit.key}: ${unaudited}; no signal was sent. Fix that or set mailgwHa.auditLogFile.`;
          services.logger.error(msg);
          showErrorEachTime(msg);
          return { command: '', error: msg };
        }
        const what = method === 'pid' ? `${found.processName}, PID ${found.pids[0]}` : `/bin/kill -s SIGUSR2 ${ref.cluster.gateway}`;
        const go = 'Send SIGUSR2';
        const c = opts?.yes ? go : await safeWindow.showWarningMessage(`Send SIGUSR2 to the gateway on ${ref.unit.key} (${what})?`, { modal: true, detail: `The gateway then inserts every complete mail in ${gatewayDirs(ref.cluster).input}.` }, go);
        if (c !== go) return undefined;
        let r;
        try {
          r = await signalGateway(conn, ref.cluster, method);
        } catch (e) {
          audit.append(signalEntry(ref.cluster, ref.unit, { error: (e as Error).message }));
          throw e;
        }
        audit.append(signalEntry(ref.cluster, ref.unit, r));
        if (method === 'pid' && r.pid !== found.pids[0]) services.logger.warn(`${ref.unit.key}: the gateway's PID changed from ${found.pids[0]} to ${r.pid} meanwhile; signalled ${r.pid}`);
        services.logger.info(`${ref.unit.key}: sent SIGUSR2: ${r.command}`);
        void safeWindow.showInformationMessage(`${ref.unit.key}: SIGUSR2 sent to ${r.processName}${r.pid !== undefined ? ` (PID ${r.pid})` : ''}.`);
        void ui.tree.refreshWithProgress();
        return { pid: r.pid, command: r.command };
      } catch (e) {
        const error = (e as Error).message;
        services.logger.error(error);
        showErrorEachTime(error, 'Show Log').then((x) => x && services.output.show(true));
        return { command: '', error };
      }
    },

    // Only mails of the standby unit that the active primary proves it has (docs/recovery.md).
    removeMails: async (node?: unknown, nodes?: unknown, opts?: TestConfirmations): Promise<{ removed: string[] } | undefined> => {
      const mails = selectedMails(services, node, nodes);
      if (mails.length === 0) {
        void safeWindow.showInformationMessage('Mail Gateway HA: select mails in the Clusters view first.');
        return undefined;
      }
      const unit = mails[0].unit;
      const cluster = services.cluster(mails[0].cluster.name);
      if (!cluster || mails.some((m) => m.unit.key !== unit.key)) {
        void safeWindow.showErrorMessage('Remove Mails: select mails of one unit at a time.');
        return undefined;
      }
      const refused = refuseUnit(cluster, unit);
      if (refused) {
        void safeWindow.showErrorMessage(refused);
        return undefined;
      }
      try {
        const decision = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: messageText(`Looking for the selected mails on ${cluster.primary.key}…`) }, () =>
          decideRemoval(services.pool, cluster, unit, mails.map((m) => ({ id: m.mail.id, folder: m.folder })), readRecoverySettings(services.logger).deliveryLogPattern),
        );
        const keptText = decision.kept.length ? `\n\nKept (not proved on ${cluster.primary.key}; this command never removes those):\n${decision.kept.slice(0, 10).map((m) => `  ${m.folder}/${m.id}: ${m.why}`).join('\n')}${decision.kept.length > 10 ? `\n  … and ${decision.kept.length - 10} more` : ''}` : '';
        for (const k of decision.kept) services.logger.info(`${unit.key}: ${k.folder}/${k.id} kept: ${k.why}`);
        if (decision.removable.length === 0) {
          void safeWindow.showWarningMessage(`${unit.key}: none of the ${mails.length} selected mail(s) is proved on the active unit ${cluster.primary.key}; nothing removed.`, 'Show Log').then((x) => x && services.output.show(true));
          return { removed: [] };
        }
        const keep = 'Keep Mails';
        const go = `Remove ${decision.removable.length} Proved Duplicate${decision.removable.length === 1 ? '' : 's'}`;
        // The first item is the dialog's default button: the one that changes nothing.
        const c = opts?.yes
          ? go
          : await safeWindow.showWarningMessage(
              `Remove ${decision.removable.length} mail(s) from the standby unit ${unit.key}?`,
              { modal: true, detail: `The active unit ${cluster.primary.key} has each of them:\n${decision.removable.slice(0, 10).map((m) => `  ${m.folder}/${m.id}: ${m.why}`).join('\n')}${decision.removable.length > 10 ? `\n  … and ${decision.removable.length - 10} more` : ''}${keptText}` },
              keep,
              go,
            );
        if (c !== go) return undefined;
        // Not started if it could not be audited; once removed, a failed append is a warning in the log.
        const audit = services.audit();
        const unaudited = audit.probe();
        if (unaudited) {
          void safeWindow.showErrorMessage(`${unit.key}: ${unaudited}; nothing was removed. Fix that or set mailgwHa.auditLogFile.`);
          return undefined;
        }
        // Under the cluster's lock (no recovery runs meanwhile, wherever started) and proved again
        // right before: the modal may have stood open for a while.
        const proved = await withClusterLock(services.pool.get(cluster.primary), cluster, 'VS Code extension (Remove Mails)', async () => {
          const again = await decideRemoval(services.pool, cluster, unit, decision.removable.map((m) => ({ id: m.id, folder: m.folder })), readRecoverySettings(services.logger).deliveryLogPattern);
          const dirs = gatewayDirs(cluster);
          const byFolder = new Map<SpoolFolder, string[]>();
          for (const m of again.removable) byFolder.set(m.folder, [...(byFolder.get(m.folder) ?? []), m.id]);
          const conn = services.pool.get(unit);
          try {
            for (const [folder, ids] of byFolder) await removeMails(conn, dirs[folder], ids);
          } catch (e) {
            audit.append(removalEntry(cluster, unit, again.removable, (e as Error).message));
            throw e;
          }
          if (again.removable.length) audit.append(removalEntry(cluster, unit, again.removable));
          return again.removable;
        });
        const removed = proved.map((m) => m.id);
        for (const m of proved) services.logger.info(`${unit.key}: removed ${m.folder}/${m.id} (${m.messageId}): ${m.why}`);
        void ui.tree.refreshWithProgress();
        void safeWindow.showInformationMessage(`${unit.key}: removed ${removed.length} proved duplicate(s)${decision.kept.length ? `; ${decision.kept.length} not proved and kept` : ''}.`);
        return { removed };
      } catch (e) {
        services.logger.error((e as Error).message);
        void safeWindow.showErrorMessage((e as Error).message, 'Show Log').then((x) => x && services.output.show(true));
        return undefined;
      }
    },
  };
}

/**
 * An error notification that shows on every try: VS Code drops a notification equal to one still
 * open (same text and severity), so a second failed try would show nothing. The time tells the
 * tries apart.
 */
function showErrorEachTime(text: string, ...buttons: string[]): Thenable<string | undefined> {
  return safeWindow.showErrorMessage(`${text} (${new Date().toLocaleTimeString()})`, ...buttons);
}
