// Plain text for VS Code's notifications, modal dialogs, the status bar, tree labels and quick
// picks. Notifications turn `[label](command:…)`, `(https://…)` and `(file:…)` into clickable
// links (VS Code's parseLinkedText: it needs "](" followed by the scheme, and ignores backslash
// escapes), and status bar items, quick picks and notifications draw `$(icon)` as icons. So a
// link is broken at its "](" and icon syntax at its "$(" — the text stays readable and the same
// to the eye — controls and invisible characters become visible escapes, and the length is capped.
import { asText, capLength, escapeControls } from './chars';

export interface MessageTextOptions {
  /** Keep line feeds (modal details, which show several lines). Default: escape them. */
  readonly multiline?: boolean;
  /** Longest text shown; default 2,000 characters (a notification is not a log). */
  readonly max?: number;
}

export const MESSAGE_MAX = 2_000;

export function messageText(value: unknown, options: MessageTextOptions = {}): string {
  const text = escapeControls(asText(value), options.multiline === true)
    .replace(/\]\s*\(/g, '] (')
    .replace(/\$\(/g, '$ (');
  return capLength(text, options.max ?? MESSAGE_MAX);
}
