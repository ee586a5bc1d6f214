// "Check Units…": the doctor (core/doctor) on a cluster's two units, shown as a readable page in the
// markdown preview and summed up in a notification. The same checks a recovery runs first.
import * as path from 'path';
import * as vscode from 'vscode';
import { doctor, DoctorReport } from '../core/doctor/doctor';
import { doctorMarkdown } from '../core/doctor/markdown';
import { writePrivateFile, stateRoot } from '../core/privateFiles';
import { journalStamp } from '../core/recovery/journal';
import * as safeWindow from '../safeWindow';
import type { Services } from '../services';
import { messageText } from '../core/text/message';
import { pickCluster } from './pickUnit';
import { readRecoverySettings } from '../settings';

export function registerCheckUnits(services: Services): vscode.Disposable[] {
  return [vscode.commands.registerCommand('mailgwHa.checkUnits', (arg?: unknown) => checkUnits(services, arg))];
}

export async function checkUnits(services: Services, arg?: unknown): Promise<DoctorReport | undefined> {
  const cluster = await pickCluster(services, arg, 'Check the units of which cluster?');
  if (!cluster) return undefined;
  const report = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: messageText(`Checking the units of ${cluster.name}…`) }, () => doctor(services.pool, cluster, readRecoverySettings(services.logger).signalMethod));
  const file = path.join(stateRoot(), 'doctor', `${cluster.name.replace(/[^A-Za-z0-9._-]/g, '_')}-${journalStamp()}.md`);
  try {
    writePrivateFile(file, doctorMarkdown([report]));
    await vscode.commands.executeCommand('markdown.showPreview', vscode.Uri.file(file));
  } catch (e) {
    services.logger.warn(`cannot write the check's page: ${(e as Error).message}`);
  }
  const fails = report.checks.filter((c) => c.severity === 'fail');
  const warns = report.checks.filter((c) => c.severity === 'warn');
  for (const c of report.checks) services.logger.info(`check units ${cluster.name}: ${c.severity} ${c.unit ?? 'pair'} ${c.title}: ${c.found}`);
  const text = fails.length ? `${cluster.name}: ${fails.length} check(s) failed — ${fails.map((c) => `${c.unit ?? 'pair'}: ${c.title}`).join('; ')}. A recovery refuses until they are fixed.` : warns.length ? `${cluster.name}: usable, ${warns.length} warning(s): ${warns.map((c) => `${c.unit ?? 'pair'}: ${c.title}`).join('; ')}.` : `${cluster.name}: every check passed.`;
  void (fails.length ? safeWindow.showErrorMessage(text) : warns.length ? safeWindow.showWarningMessage(text) : safeWindow.showInformationMessage(text));
  return report;
}
