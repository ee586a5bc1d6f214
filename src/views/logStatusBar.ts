// Status bar: the active unit of the selected cluster and how many mails the watched logs showed
// inserted this session. Clicking it watches that unit's log in the panel.
import * as vscode from 'vscode';
import type { Services } from '../services';
import type { LogWatch } from './logWatch';
import { markdownText, untrustedMarkdownOptions } from '../core/text/markdown';
import { messageText } from '../core/text/message';

export class LogStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('mailgwHa.logStatus', vscode.StatusBarAlignment.Left, 50);
  private readonly disposables: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    services: Services,
    private readonly logWatch: LogWatch,
  ) {
    this.item.name = 'Mail Gateway HA: active unit and inserted mails';
    this.item.command = 'mailgwHa.watchLog';
    this.disposables.push(
      this.item,
      logWatch.onDidChange(() => this.schedule()),
      services.onDidChangeSettings(() => this.schedule()),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.schedule()),
    );
    this.update();
  }

  private schedule(): void {
    // Lines can arrive thousands per second: update at most every 250 ms.
    if (!this.timer) this.timer = setTimeout(() => ((this.timer = undefined), this.update()), 250);
  }

  /** What the item shows (for tests). */
  get text(): string {
    return this.item.text;
  }

  private update(): void {
    const cluster = this.logWatch.selectedCluster;
    if (!cluster || !vscode.workspace.isTrusted) {
      this.item.hide();
      return;
    }
    const active = this.logWatch.activeUnitName(cluster.name);
    const count = this.logWatch.insertedCount(cluster.name);
    const unitText = active === undefined ? 'active unit ?' : active === null ? 'no active unit' : `${active} active`;
    // The item draws $(icon) syntax: names from the settings are neutralised, the icons are ours.
    this.item.text = `$(server-process) ${messageText(`${cluster.name}: ${unitText}`, { max: 120 })} $(mail) ${count} inserted`;
    const md = Object.assign(new vscode.MarkdownString(), untrustedMarkdownOptions);
    md.appendMarkdown(`**${markdownText(cluster.name)}** (gateway \`${cluster.gateway}\`)\n\n`);
    md.appendMarkdown(active === undefined ? 'Active unit not checked yet (it is when a log is watched).\n\n' : active === null ? 'The gateway process runs on neither unit (or on both).\n\n' : `Gateway runs on **${markdownText(active)}**.\n\n`);
    md.appendMarkdown(`${count} mail(s) shown inserted in the watched logs this session (the lines read back on watching included).\n\nClick to watch the log in the panel.`);
    this.item.tooltip = md;
    this.item.backgroundColor = active === null ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.accessibilityInformation = { label: messageText(`Mail gateway ${cluster.name}: ${unitText}, ${count} mails inserted this session`, { max: 200 }), role: 'button' };
    this.item.show();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}
