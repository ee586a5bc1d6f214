// Spool explorer commands: refresh, filter, show more, copy id / Message-ID, open .body/.env
// read-only, and revealMail (used by the log panel).
import * as vscode from 'vscode';
import * as safeWindow from '../safeWindow';
import { parseAge, formatDuration, MailFilter, validateFilter } from '../core/spool/filter';
import type { Services } from '../services';
import type { ClusterTreeProvider } from '../views/clusterTree';
import type { MailNode } from '../views/clusterTreeNodes';
import { HEAD_ONLY_BYTES, mailUri } from '../views/mailFileSystem';
import { maxOpenBytes } from '../settings';

function asMailNode(arg: unknown): MailNode | undefined {
  return arg && typeof arg === 'object' && (arg as { kind?: string }).kind === 'mail' ? (arg as MailNode) : undefined;
}

/** The mail a command acts on: the node it was invoked on, else the tree's selection. */
function mailArg(arg: unknown, view: vscode.TreeView<unknown> | undefined): MailNode | undefined {
  const node = asMailNode(arg) ?? asMailNode(view?.selection[0]);
  if (!node) void safeWindow.showInformationMessage('Mail Gateway HA: select a mail in the Clusters view first.');
  return node;
}

/** Opens a mail file read-only; over the size limit, offers its head only. Returns the document, if opened. */
export async function openMailFile(node: MailNode, part: 'body' | 'env', headOnly = false): Promise<vscode.TextDocument | undefined> {
  const file = part === 'body' ? node.mail.body : node.mail.env;
  if (!file) {
    void safeWindow.showWarningMessage(`${node.unit.key}: mail ${node.mail.id} has no .${part} (an incomplete pair).`);
    return undefined;
  }
  const limit = maxOpenBytes();
  let head: number | undefined = headOnly ? Math.min(HEAD_ONLY_BYTES, limit) : undefined;
  if (!headOnly && file.size > limit) {
    const choice = await safeWindow.showWarningMessage(
      `${node.unit.key}: ${file.name} is ${(file.size / 1024 / 1024).toFixed(1)} MB, over the ${(limit / 1024 / 1024).toFixed(1)} MB limit for opening spool files (setting mailgwHa.maxOpenSizeMB).`,
      'Open Head Only',
      'Change Limit',
    );
    if (choice === 'Change Limit') void vscode.commands.executeCommand('workbench.action.openSettings', 'mailgwHa.maxOpenSizeMB');
    if (choice !== 'Open Head Only') return undefined;
    head = Math.min(HEAD_ONLY_BYTES, limit);
  }
  const uri = mailUri({ cluster: node.cluster.name, unit: node.unit.name, folder: node.folder, id: node.mail.id, part, head });
  try {
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc, { preview: true, preserveFocus: false });
    return doc;
  } catch (err) {
    void safeWindow.showErrorMessage(`Mail Gateway HA: cannot open ${file.name}: ${(err as Error).message}`);
    return undefined;
  }
}

interface FilterPick extends vscode.QuickPickItem {
  readonly field?: 'from' | 'to' | 'subject' | 'minAge' | 'clear' | 'apply';
}

/** QuickPick of the filter's fields (each edited in an input box), then Apply. */
async function askFilter(current: MailFilter | undefined): Promise<MailFilter | undefined> {
  const draft: { from?: string; to?: string; subject?: string; minAgeSeconds?: number } = { ...current };
  for (;;) {
    const items: FilterPick[] = [
      { label: '$(check) Apply filter', field: 'apply', description: describeDraft(draft) },
      { label: '$(person) Sender', description: draft.from ?? 'any', detail: 'From header contains this text, or matches /regex/', field: 'from' },
      { label: '$(mail) Recipient', description: draft.to ?? 'any', detail: 'To or Cc header contains this text, or matches /regex/', field: 'to' },
      { label: '$(symbol-text) Subject', description: draft.subject ?? 'any', detail: 'Subject contains this text, or matches /regex/', field: 'subject' },
      { label: '$(clock) Minimum age', description: draft.minAgeSeconds ? `older than ${formatDuration(draft.minAgeSeconds)}` : 'any', detail: 'Only mails at least this old, e.g. 30m, 2h, 1d', field: 'minAge' },
      { label: '$(clear-all) Clear filter', field: 'clear' },
    ];
    const pick = await vscode.window.showQuickPick(items, { title: 'Filter the spool explorer (like exiqgrep)', placeHolder: 'Choose a criterion; Enter in its box applies the filter' });
    if (!pick) return undefined;
    if (pick.field === 'apply') return draft;
    if (pick.field === 'clear') return {};
    if (pick.field === 'minAge') {
      const v = await vscode.window.showInputBox({
        title: 'Minimum age',
        prompt: 'Only mails at least this old: a number with s, m, h or d (empty: any age). Enter applies the filter; Escape goes back to the criteria.',
        value: draft.minAgeSeconds ? formatDuration(draft.minAgeSeconds) : '',
        validateInput: (t) => (t.trim() === '' || parseAge(t) !== undefined ? undefined : 'e.g. 90s, 30m, 2h, 1d'),
      });
      // Enter applies at once; Escape goes back to the list of criteria.
      if (v !== undefined) return { ...draft, minAgeSeconds: v.trim() ? parseAge(v) : undefined };
      continue;
    }
    const field = pick.field!;
    const v = await vscode.window.showInputBox({
      title: pick.label.replace(/^\$\([^)]*\) /, ''),
      prompt: `${pick.detail} (case-insensitive; empty: any). Enter applies the filter; Escape goes back to the criteria.`,
      value: draft[field] ?? '',
      validateInput: (t) => {
        try {
          validateFilter({ [field]: t.trim() });
          return undefined;
        } catch (err) {
          return (err as Error).message;
        }
      },
    });
    if (v !== undefined) return { ...draft, [field]: v.trim() || undefined };
  }
}

function describeDraft(d: MailFilter): string {
  const parts = [d.from && `from:${d.from}`, d.to && `to:${d.to}`, d.subject && `subject:${d.subject}`, d.minAgeSeconds && `older than ${formatDuration(d.minAgeSeconds)}`].filter(Boolean);
  return parts.length ? parts.join(' · ') : 'no criteria (shows everything)';
}

export function registerSpoolCommands(services: Services, tree: ClusterTreeProvider, view: vscode.TreeView<unknown> | undefined): vscode.Disposable[] {
  const applyFilter = (filter: MailFilter | undefined) =>
    vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Mail Gateway HA: reading message headers for the filter', cancellable: true }, (progress, token) => {
      let reported = 0;
      return tree.setFilter(filter, {
        token,
        report(done, total) {
          const pct = (done / total) * 100;
          if (pct - reported >= 1 || done === total) {
            progress.report({ increment: pct - reported, message: `${done.toLocaleString('en-US')} of ${total.toLocaleString('en-US')}` });
            reported = pct;
          }
        },
      });
    });

  return [
    vscode.commands.registerCommand('mailgwHa.refresh', async (arg?: unknown) => {
      const key = arg && typeof arg === 'object' && 'unit' in arg ? (arg as { unit: { key: string } }).unit.key : undefined;
      await tree.refreshWithProgress(key);
    }),
    vscode.commands.registerCommand('mailgwHa.showMore', (node: Parameters<ClusterTreeProvider['showMore']>[0]) => tree.showMore(node)),
    /** `filter` given (suites, other commands): applied as is; otherwise the QuickPick asks. Returns whether it was applied. */
    vscode.commands.registerCommand('mailgwHa.filter', async (filter?: MailFilter): Promise<boolean> => {
      const f = filter && typeof filter === 'object' && !('kind' in filter) ? filter : await askFilter(tree.filter);
      if (!f) return false;
      try {
        validateFilter(f);
      } catch (err) {
        void safeWindow.showErrorMessage(`Mail Gateway HA: ${(err as Error).message}`);
        return false;
      }
      return applyFilter(f);
    }),
    vscode.commands.registerCommand('mailgwHa.clearFilter', () => tree.setFilter(undefined)),
    vscode.commands.registerCommand('mailgwHa.copyMailId', async (arg?: unknown) => {
      const node = mailArg(arg, view);
      if (!node) return undefined;
      await vscode.env.clipboard.writeText(node.mail.id);
      safeWindow.setStatusBarMessage(`Copied mail id ${node.mail.id}`, 3000);
      return node.mail.id;
    }),
    vscode.commands.registerCommand('mailgwHa.copyMessageId', async (arg?: unknown) => {
      const node = mailArg(arg, view);
      if (!node) return undefined;
      if (!node.mail.body) {
        void safeWindow.showWarningMessage(`${node.unit.key}: mail ${node.mail.id} has no .body, so no Message-ID header.`);
        return undefined;
      }
      if (!tree.summaryOf(node)) {
        // Where to connect comes from the settings, never from the node a caller passed.
        const ref = services.unit(node.unit.key);
        if (!ref) return undefined;
        try {
          await tree.summaries.load(services.pool.get(ref.unit), ref.cluster, ref.unit.key, [node.mail]);
        } catch (err) {
          void safeWindow.showErrorMessage((err as Error).message);
          return undefined;
        }
      }
      const summary = tree.summaryOf(node);
      const messageId = summary?.messageId;
      if (!messageId) {
        void safeWindow.showWarningMessage(summary?.messageIdProblem ? `${node.unit.key}: mail ${node.mail.id} has no usable Message-ID (${summary.messageIdProblem}); a recovery judges it by its gateway id like any other.` : `${node.unit.key}: mail ${node.mail.id} has no Message-ID header.`);
        return undefined;
      }
      await vscode.env.clipboard.writeText(messageId);
      safeWindow.setStatusBarMessage(`Copied ${messageId}`, 3000);
      return messageId;
    }),
    vscode.commands.registerCommand('mailgwHa.openMail', (arg?: unknown, part?: 'body' | 'env') => {
      const node = mailArg(arg, view);
      return node ? openMailFile(node, part === 'env' ? 'env' : node.mail.body ? 'body' : 'env') : undefined;
    }),
    vscode.commands.registerCommand('mailgwHa.openBody', (arg?: unknown) => {
      const node = mailArg(arg, view);
      return node ? openMailFile(node, 'body') : undefined;
    }),
    vscode.commands.registerCommand('mailgwHa.openEnv', (arg?: unknown) => {
      const node = mailArg(arg, view);
      return node ? openMailFile(node, 'env') : undefined;
    }),
    vscode.commands.registerCommand('mailgwHa.openBodyHead', (arg?: unknown) => {
      const node = mailArg(arg, view);
      return node ? openMailFile(node, 'body', true) : undefined;
    }),
    /** {cluster, id} → true if the mail was found and selected in the tree. */
    vscode.commands.registerCommand('mailgwHa.revealMail', async (arg?: { cluster?: unknown; id?: unknown }): Promise<boolean> => {
      if (!arg || typeof arg.cluster !== 'string' || typeof arg.id !== 'string') return false;
      return tree.revealMail(arg.cluster, arg.id);
    }),
  ];
}
