// Untrusted text inside a MarkdownString (tree and status bar tooltips): every ASCII punctuation
// character is backslash-escaped (CommonMark shows each as itself), so no link, image, HTML tag,
// emphasis, table cell or GFM autolink (`https://…`, `www.…`, `a@b.c`) can form, and `$(icon)`
// stays text; controls and invisible characters become visible escapes; one line; capped. The
// MarkdownString itself must also be made untrusted: see untrustedMarkdownOptions.
import { asText, capLength, escapeControls } from './chars';

export const MARKDOWN_VALUE_MAX = 1_000;

export function markdownText(value: unknown, max = MARKDOWN_VALUE_MAX): string {
  return escapeControls(capLength(asText(value), max)).replace(/[!-/:-@[-`{-~]/g, (c) => `\\${c}`);
}

/** What every MarkdownString that may hold untrusted text is set to (no command links, no icons, no HTML). */
export const untrustedMarkdownOptions = { isTrusted: false, supportThemeIcons: false, supportHtml: false } as const;
