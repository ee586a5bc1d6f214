// How each row of the Clusters view looks: label, description, icon, tooltip, context value. Pure
// rendering from a node and the facts the tree has gathered for it (no loading, no connection).
// Labels, descriptions and tooltips carry server texts, names and header values: all of them go
// through messageText (plain) or markdownText (the mail tooltip, made untrusted).
import * as vscode from 'vscode';
import { ClusterConfig, formatConfigError } from '../core/config';
import { addressOf, displayNameOf, MessageSummary } from '../core/message/headers';
import { describeLeftovers, LeftoverSplit } from '../core/recovery/outcome';
import { formatAge, formatBytes } from '../core/spool/filter';
import type { FolderListing, SpoolFolder } from '../core/spool/list';
import { leftoverCount, UnitOverview } from '../core/spool/overview';
import type { ConnectionInfo, ConnectionState } from '../core/ssh/connection';
import { markdownText, untrustedMarkdownOptions } from '../core/text/markdown';
import { messageText } from '../core/text/message';
import { ClusterTreeNode, FolderNode, MailNode, PAGE_SIZE, UnitNode } from './clusterTreeNodes';

export const plain = (v: unknown, max = 500) => messageText(v, { max });
const plainLines = (v: unknown) => messageText(v, { multiline: true, max: 4_000 });

export const UNIT_DECORATION_SCHEME = 'mailgw-ha-unit';

/** The URI a unit row carries, for its file decoration (the leftover count). */
export function unitUri(key: string): vscode.Uri {
  return vscode.Uri.from({ scheme: UNIT_DECORATION_SCHEME, path: `/${encodeURIComponent(key)}` });
}

export function clusterItem(cluster: ClusterConfig): vscode.TreeItem {
  const item = new vscode.TreeItem(plain(cluster.name, 100), vscode.TreeItemCollapsibleState.Expanded);
  item.id = `cluster:${cluster.name}`;
  item.description = cluster.gateway;
  item.iconPath = new vscode.ThemeIcon('server-environment');
  item.contextValue = 'cluster';
  return item;
}

export function moreItem(node: Extract<ClusterTreeNode, { kind: 'more' }>): vscode.TreeItem {
  const item = new vscode.TreeItem(`Show ${Math.min(PAGE_SIZE, node.total - node.shown)} more…`, vscode.TreeItemCollapsibleState.None);
  item.id = `more:${node.unit.key}:${node.folder}:${node.shown}`;
  item.description = `${node.shown.toLocaleString('en-US')} of ${node.total.toLocaleString('en-US')} shown`;
  item.iconPath = new vscode.ThemeIcon('ellipsis');
  item.contextValue = 'more';
  item.command = { command: 'mailgwHa.showMore', title: 'Show More', arguments: [node] };
  return item;
}

export function errorItem(node: Extract<ClusterTreeNode, { kind: 'error' | 'failure' }>): vscode.TreeItem {
  const item = new vscode.TreeItem(plain(node.kind === 'error' ? node.error.message : node.message), vscode.TreeItemCollapsibleState.None);
  item.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('errorForeground'));
  if (node.kind === 'error') {
    item.description = plain([node.error.cluster, node.error.unit, node.error.field].filter(Boolean).join(' › '));
    item.tooltip = plainLines(formatConfigError(node.error));
    item.contextValue = 'configError';
    item.command = { command: 'mailgwHa.openSettings', title: 'Open Settings' };
  } else {
    item.tooltip = `${plainLines(node.message)}\n\nRefresh to try again.`;
    item.contextValue = 'failure';
    item.command = { command: 'mailgwHa.refresh', title: 'Refresh', arguments: [node] };
  }
  return item;
}

/** What the tree knows of a unit when its row is drawn. */
export interface UnitFacts {
  readonly overview?: UnitOverview;
  readonly looking: boolean;
  readonly connection?: { readonly state: ConnectionState; readonly lastError?: Error; readonly info?: ConnectionInfo };
  /** What is left on it, by next step (only asked for when something is left). */
  readonly leftovers: () => LeftoverSplit;
}

export function unitItem(node: UnitNode, facts: UnitFacts): vscode.TreeItem {
  const { unit } = node;
  const conn = facts.connection;
  const state: ConnectionState = conn?.state ?? 'idle';
  const item = new vscode.TreeItem(plain(unit.name, 100), vscode.TreeItemCollapsibleState.Expanded);
  item.id = `unit:${unit.key}`;
  const o = facts.overview;
  const activity = o ? (o.active ? `active (PID ${o.gateway.pids.join(', ')})` : 'standby') : facts.looking ? 'looking…' : undefined;
  const left = leftoverCount(unit, o);
  // What is left, split, where the admin looks first (the badge says the same in its tooltip).
  const described = left > 0 ? describeLeftovers(facts.leftovers()) : undefined;
  const split = described?.text;
  item.description = plain([unit.role, activity, o?.haDisagreement ? 'HA state disagrees' : undefined, `${unit.host}${unit.port ? `:${unit.port}` : ''}`, split].filter(Boolean).join(' · ') + STATE_TEXT[state]);
  item.iconPath = (left > 0 || o?.haDisagreement) && state === 'connected' ? new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground')) : o?.active && state === 'connected' ? new vscode.ThemeIcon('vm-running', new vscode.ThemeColor('testing.iconPassed')) : STATE_ICON[state];
  item.resourceUri = unitUri(unit.key);
  const tips: string[] = [`${unit.key} (${unit.role})`];
  if (o) tips.push(o.active ? `Active: gateway ${o.gateway.processName} runs (PID ${o.gateway.pids.join(', ')}).` : `Standby: gateway ${o.gateway.processName} is not running here.`);
  if (o?.haDisagreement) tips.push(`Which unit is active is not clear: ${o.haDisagreement}. A recovery refuses until this is resolved.`);
  if (described) tips.push(`${left} mail(s) left on this standby secondary: ${described.text}. Next: ${described.next}.`);
  if (o?.log) tips.push(`Gateway log: ${o.log.file} (${o.log.why}).`);
  if (conn?.lastError) tips.push(conn.lastError.message);
  else if (conn?.info) tips.push(`${conn.info.authMethod} · ${conn.info.hostKeyType} ${conn.info.fingerprint}`);
  if (o) tips.push(`Looked at ${new Date(o.loadedAt).toLocaleTimeString()} (${o.elapsedMs} ms).`);
  item.tooltip = plainLines(tips.join('\n'));
  item.contextValue = `unit.${unit.role}${o?.active ? '.active' : ''}${left > 0 ? '.leftovers' : ''}`;
  return item;
}

/** With a filter on: how many mails of the folder match, once their headers are known. */
export interface FolderFilterFacts {
  readonly known: boolean;
  readonly matching: number;
}

export function folderItem(node: FolderNode, listing: FolderListing | undefined, filter: FolderFilterFacts | undefined, stuck?: { count: number; oldestAgeS: number; minutes: number }): vscode.TreeItem {
  const total = listing?.mails.length ?? 0;
  const item = new vscode.TreeItem(node.folder, total > 0 ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
  item.id = `folder:${node.unit.key}:${node.folder}`;
  item.iconPath = new vscode.ThemeIcon(FOLDER_ICON[node.folder]);
  item.contextValue = `folder.${node.folder}.${node.unit.role}`;
  if (!listing) return item;
  const parts: string[] = [];
  if (listing.missing) parts.push('folder missing');
  else {
    const counted = `${listing.completeCount.toLocaleString('en-US')} mail${listing.completeCount === 1 ? '' : 's'}`;
    parts.push(listing.incompleteCount ? `${counted} + ${listing.incompleteCount} incomplete` : counted);
    if (total > 0) parts.push(formatBytes(listing.totalBytes), `oldest ${formatAge(listing.oldestMtimeMs!)}`);
  }
  if (filter && total > 0) parts.unshift(filter.known ? `${filter.matching} match` : 'filtering…');
  if (stuck) {
    parts.unshift(`${stuck.count} stuck`);
    item.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground'));
  }
  item.description = parts.join(' · ');
  const tips = [`${listing.path}`, `${listing.completeCount} complete mail(s), ${listing.incompleteCount} incomplete pair(s), ${formatBytes(listing.totalBytes)}`];
  if (listing.oldestMtimeMs !== undefined) tips.push(`Oldest: ${new Date(listing.oldestMtimeMs).toLocaleString()} (${formatAge(listing.oldestMtimeMs)} ago)`);
  if (stuck) tips.push(`${stuck.count} mail(s) older than ${stuck.minutes} min on the active unit (oldest ${formatAge(Date.now() - stuck.oldestAgeS * 1000)}): the gateway is not delivering them. Check its log. (mailgwHa.stuckMailMinutes)`);
  if (listing.ignored.length) tips.push(`${listing.ignored.length} other entr${listing.ignored.length === 1 ? 'y' : 'ies'} not treated as mail: ${listing.ignored.slice(0, 5).map((e) => `${e.name} (${e.reason})`).join(', ')}${listing.ignored.length > 5 ? ', …' : ''}`);
  item.tooltip = plainLines(tips.join('\n'));
  return item;
}

/** What the tree knows of a mail: its headers once read, and why recovery leaves it alone. */
export interface MailFacts {
  readonly summary?: MessageSummary;
  /** Where the active unit holds it (same gateway id and sizes), or that the last recovery proved it a duplicate. */
  readonly duplicate?: string;
  /** Why a recovery held it for a decision. */
  readonly held?: string;
}

export function mailItem(node: MailNode, facts: MailFacts): vscode.TreeItem {
  const { mail } = node;
  const s = facts.summary;
  const item = new vscode.TreeItem(plain(mail.id, 100), vscode.TreeItemCollapsibleState.None);
  item.id = `mail:${node.unit.key}:${mail.folder}:${mail.id}`;
  const missing = !mail.body ? '.body' : !mail.env ? '.env' : undefined;
  const duplicate = facts.duplicate;
  const held = duplicate ? undefined : facts.held;
  if (missing) {
    item.description = plain(`incomplete (check by hand): no ${missing}${s ? ` · ${displayNameOf(s.from) ?? '?'} — ${s.subject ?? '(no subject)'}` : ''}`);
    item.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground'));
    item.contextValue = 'mail.incomplete';
  } else if (duplicate) {
    item.description = plain(`duplicate (${duplicate}) · ${s ? `${displayNameOf(s.from) ?? '(no sender)'} — ${s.subject ?? '(no subject)'}` : '…'}`);
    item.iconPath = new vscode.ThemeIcon('copy', new vscode.ThemeColor('list.warningForeground'));
    item.contextValue = 'mail.duplicate';
  } else if (held && !missing) {
    item.description = plain(`held for a decision · ${s ? `${displayNameOf(s.from) ?? '(no sender)'} — ${s.subject ?? '(no subject)'}` : '…'}`);
    item.iconPath = new vscode.ThemeIcon('question', new vscode.ThemeColor('list.warningForeground'));
    item.contextValue = 'mail.held';
  } else {
    item.description = s ? plain(`${displayNameOf(s.from) ?? '(no sender)'} — ${s.subject ?? '(no subject)'}`) : '…';
    item.iconPath = new vscode.ThemeIcon('mail');
    item.contextValue = 'mail';
  }
  // Header values are the sender's words: no links, icons, HTML or autolinked URLs (markdownText).
  const md = Object.assign(new vscode.MarkdownString(), untrustedMarkdownOptions);
  const row = (k: string, v: string | undefined) => (v ? `| ${k} | ${markdownText(v)} |\n` : '');
  md.appendMarkdown(`**${markdownText(mail.id)}** · ${mail.folder} on ${markdownText(node.unit.key)}${missing ? ` · ⚠ no ${missing}: incomplete, recovery leaves it alone — check by hand` : ''}${duplicate ? ` · duplicate (${markdownText(duplicate)}): recovery skips it` : ''}${held ? ` · held for a decision (${markdownText(held)}): Held Mails… decides it` : ''}\n\n| | |\n|---|---|\n`);
  md.appendMarkdown(row('From', s?.from) + row('To', s?.to) + row('Cc', s?.cc) + row('Subject', s?.subject) + row('Date', s?.date) + row('Message-ID', s?.messageId ?? (s?.messageIdProblem && `none usable (${s.messageIdProblem})`)));
  md.appendMarkdown(row('Size', `${formatBytes(mail.size)} (${mail.body ? `.body ${mail.body.size.toLocaleString('en-US')} B` : 'no .body'}, ${mail.env ? `.env ${mail.env.size.toLocaleString('en-US')} B` : 'no .env'})`));
  md.appendMarkdown(row('Age', `${formatAge(mail.mtimeMs)} (${new Date(mail.mtimeMs).toLocaleString()})`));
  if (!s && mail.body) md.appendMarkdown('\n_Headers not read yet._');
  if (s?.truncated) md.appendMarkdown('\n_The header block is longer than what was read; values may be cut._');
  item.tooltip = md;
  const part = mail.body ? 'body' : 'env';
  item.command = { command: 'mailgwHa.openMail', title: `Open .${part}`, arguments: [node, part] };
  item.accessibilityInformation = { label: plain(`mail ${mail.id}${s?.from ? ` from ${addressOf(s.from)}` : ''}${s?.subject ? `, subject ${s.subject}` : ''}${missing ? `, incomplete, no ${missing}` : ''}${duplicate ? ', duplicate' : ''}${held ? ', held for a decision' : ''}`) };
  return item;
}

const FOLDER_ICON: Record<SpoolFolder, string> = { spool: 'inbox', vscan: 'shield', input: 'arrow-down' };

const STATE_TEXT: Record<ConnectionState, string> = {
  idle: '',
  connecting: ' · connecting…',
  connected: '',
  reconnecting: ' · reconnecting…',
  failed: ' · connection failed',
  closed: '',
};

const STATE_ICON: Record<ConnectionState, vscode.ThemeIcon> = {
  idle: new vscode.ThemeIcon('vm'),
  connecting: new vscode.ThemeIcon('sync~spin'),
  connected: new vscode.ThemeIcon('vm-active'),
  reconnecting: new vscode.ThemeIcon('sync~spin', new vscode.ThemeColor('list.warningForeground')),
  failed: new vscode.ThemeIcon('vm-outline', new vscode.ThemeColor('list.errorForeground')),
  closed: new vscode.ThemeIcon('vm'),
};
