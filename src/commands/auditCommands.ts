// The audit trail in the editor: Open Audit Trail (the file itself, read-only in the editor) and
// Export Audit Trail… (JSON lines or CSV, one row per mail of each record). The trail is written by
// the recovery core and the commands that change units (src/core/audit/), the CLI's too.
import * as fs from 'fs';
import * as vscode from 'vscode';
import * as safeWindow from '../safeWindow';
import { AUDIT_READ_MAX_BYTES, auditTable, readAuditTrail } from '../core/audit/read';
import { formatTable } from '../core/export/table';
import { askExportFile, saveExport } from '../exportFile';
import type { Services } from '../services';
import { auditLogTarget } from '../settings';

/** The audit file the settings name, or undefined (the error shown). */
function auditFile(): string | undefined {
  const t = auditLogTarget();
  if ('error' in t) {
    void safeWindow.showErrorMessage(`Mail Gateway HA: ${t.error}`, 'Open Settings').then((c) => c && vscode.commands.executeCommand('workbench.action.openSettings', 'mailgwHa.auditLogFile'));
    return undefined;
  }
  return t.file;
}

function noTrailYet(file: string): void {
  void safeWindow.showInformationMessage(`Mail Gateway HA: no audit trail yet at ${file}. It is written when an action changes a unit (a recovery, Copy to Primary Input, Send SIGUSR2, Remove Mails, a held mail's decision), here or by the mailgw-ha CLI.`);
}

export function registerAuditCommands(services: Services): vscode.Disposable[] {
  return [
    /** Opens the audit file (read-only in the editor); returns its URI, or undefined when there is none. */
    vscode.commands.registerCommand('mailgwHa.openAuditTrail', async (): Promise<vscode.Uri | undefined> => {
      const file = auditFile();
      if (!file) return undefined;
      if (!fs.existsSync(file)) {
        noTrailYet(file);
        return undefined;
      }
      const uri = vscode.Uri.file(file);
      try {
        // Bounded like every read: a trail past the reader's cap is exported (its newest records), not opened.
        const size = fs.statSync(file).size;
        if (size > AUDIT_READ_MAX_BYTES) {
          const choice = await safeWindow.showWarningMessage(`Mail Gateway HA: the audit trail ${file} is ${(size / 1024 / 1024).toFixed(0)} MB, more than the ${AUDIT_READ_MAX_BYTES / 1024 / 1024} MB opened in the editor. Export its newest records instead?`, 'Export Audit Trail…');
          if (choice) await vscode.commands.executeCommand('mailgwHa.exportAuditTrail');
          return undefined;
        }
        const doc = await vscode.workspace.openTextDocument(uri);
        await vscode.window.showTextDocument(doc, { preview: true });
        // The trail is a record: not edited by accident (the session's read-only mark, VS Code 1.79+).
        await vscode.commands.executeCommand('workbench.action.files.setActiveEditorReadonlyInSession').then(undefined, () => undefined);
        return uri;
      } catch (e) {
        void safeWindow.showErrorMessage(`Mail Gateway HA: cannot open the audit trail ${file}: ${(e as Error).message}`);
        return undefined;
      }
    }),
    /** Asks where, writes JSON lines or CSV (by the name's extension); returns the file written. */
    vscode.commands.registerCommand('mailgwHa.exportAuditTrail', async (): Promise<string | undefined> => {
      const file = auditFile();
      if (!file) return undefined;
      let trail;
      try {
        trail = readAuditTrail(file);
      } catch (e) {
        void safeWindow.showErrorMessage(`Mail Gateway HA: ${(e as Error).message}`);
        return undefined;
      }
      if (!trail.exists) {
        noTrailYet(file);
        return undefined;
      }
      const target = await askExportFile(`mailgw-audit-${new Date().toISOString().slice(0, 10)}.csv`, 'Export Audit Trail');
      if (!target) return undefined;
      const { uri } = target;
      if (!(await saveExport(uri, formatTable(auditTable(trail.records), target.format)))) return undefined;
      const notes = [trail.skippedBytes ? `only the newest records: the first ${trail.skippedBytes.toLocaleString('en-US')} bytes of ${file} are over the read limit` : '', trail.badLines ? `${trail.badLines} line(s) that are not audit records skipped` : ''].filter(Boolean);
      services.logger.info(`Audit trail (${trail.records.length} record(s)) exported to ${uri.fsPath}${notes.length ? `; ${notes.join('; ')}` : ''}`);
      const show = notes.length ? safeWindow.showWarningMessage : safeWindow.showInformationMessage;
      void show(`Audit trail: ${trail.records.length} record(s) exported to ${uri.fsPath}${notes.length ? ` (${notes.join('; ')})` : ''}.`);
      return uri.fsPath;
    }),
  ];
}
