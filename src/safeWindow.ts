// VS Code's message functions with every string neutralised (src/core/text/message.ts): the only
// way the extension shows a notification, a modal or a status bar message (ESLint forbids calling
// vscode.window.show*Message directly). Messages carry server texts, file names, header values and
// settings values; none of them may become a link, an icon or a fake line.
import * as vscode from 'vscode';
import { messageText } from './core/text/message';

/** Longest modal detail (a recovery plan lists up to a few dozen lines). */
const DETAIL_MAX = 8_000;

type Rest<T> = [options: vscode.MessageOptions, ...items: T[]] | T[];

/** A message as it is shown (after neutralising): what the test-mode API lets suites observe. */
export interface ShownMessage {
  readonly severity: 'error' | 'warning' | 'info';
  readonly message: string;
  readonly modal: boolean;
  readonly detail?: string;
  readonly items: readonly string[];
}

/** Test mode only (see src/testApi.ts): sees every message; may answer a modal instead of the user. */
export interface MessageTestHook {
  /** Returns the title of the item to choose (or null for Cancel) to answer instead of showing it; undefined shows it. */
  (shown: ShownMessage): string | null | undefined;
}
let testHook: MessageTestHook | undefined;

/** Set only by the test-mode API; production never calls it. */
export function setMessageTestHook(hook: MessageTestHook | undefined): void {
  testHook = hook;
}

function show<T extends string | vscode.MessageItem>(severity: ShownMessage['severity'], fn: unknown, message: string, rest: Rest<T>): Thenable<T | undefined> {
  const args: unknown[] = [...rest];
  let items = args;
  const first = args[0];
  const options = first && typeof first === 'object' && !('title' in first) ? (first as vscode.MessageOptions) : undefined;
  if (options) items = args.slice(1);
  // Button labels are ours but may include a unit name: show them neutralised, answer with the original.
  const shown = items.map((i) => (typeof i === 'string' ? messageText(i, { max: 200 }) : { ...(i as vscode.MessageItem), title: messageText((i as vscode.MessageItem).title, { max: 200 }) }));
  const safeOptions = options && { ...options, ...(options.detail !== undefined ? { detail: messageText(options.detail, { multiline: true, max: DETAIL_MAX }) } : {}) };
  const call = fn as unknown as (message: string, ...rest: unknown[]) => Thenable<unknown>;
  const text = messageText(message);
  const titles = shown.map((i) => (typeof i === 'string' ? i : i.title));
  const answer = testHook?.({ severity, message: text, modal: !!safeOptions?.modal, detail: safeOptions?.detail, items: titles });
  const result =
    answer !== undefined ? Promise.resolve(answer === null ? undefined : shown[titles.indexOf(answer)]) : safeOptions ? call(text, safeOptions, ...shown) : call(text, ...shown);
  return result.then((choice) => {
    const i = shown.indexOf(choice as never);
    return (i >= 0 ? items[i] : undefined) as T | undefined;
  });
}

export function showErrorMessage<T extends string | vscode.MessageItem>(message: string, ...rest: Rest<T>): Thenable<T | undefined> {
  return show<T>('error', vscode.window.showErrorMessage, message, rest);
}

export function showWarningMessage<T extends string | vscode.MessageItem>(message: string, ...rest: Rest<T>): Thenable<T | undefined> {
  return show<T>('warning', vscode.window.showWarningMessage, message, rest);
}

export function showInformationMessage<T extends string | vscode.MessageItem>(message: string, ...rest: Rest<T>): Thenable<T | undefined> {
  return show<T>('info', vscode.window.showInformationMessage, message, rest);
}

export function setStatusBarMessage(text: string, hideAfterTimeout: number): vscode.Disposable {
  return vscode.window.setStatusBarMessage(messageText(text, { max: 200 }), hideAfterTimeout);
}
