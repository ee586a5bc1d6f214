// Untrusted text for a terminal (the CLI's stdout/stderr) and for line-oriented logs (the output
// channel): C0/C1 controls and DEL — ESC sequences that clear the screen, set the title (OSC) or
// move the cursor, and line breaks that fake a line of their own — and invisible formatting
// characters are written as visible escapes, like `ls -b`. A backslash is doubled so that an
// escape cannot be forged by the text itself.
import { asText, escapeControls, INVISIBLE_SOURCE } from './chars';

export function terminalText(value: unknown): string {
  return escapeControls(asText(value).replace(/\\/g, '\\\\'));
}

/** For a log line: as terminalText, but a backslash stays single (paths and regexes stay readable). */
export function logLineText(value: unknown): string {
  return escapeControls(asText(value));
}

/** DEL, C1 and every invisible character escapeControls shows (the same list, not a copy of it). */
const JSON_UNSAFE = new RegExp(`[\\u007f-\\u009f]|${INVISIBLE_SOURCE}`, 'g');
/** Each UTF-16 unit of the match as \uXXXX. */
function jsonEscape(c: string): string {
  let out = '';
  for (let i = 0; i < c.length; i++) out += `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return out;
}

/**
 * JSON for a terminal: JSON.stringify escapes C0 but writes DEL, C1 (U+009B is a CSI to some
 * terminals), bidi and other invisible characters raw; they are written as \uXXXX (a tag
 * character as its two surrogate escapes), which is the same JSON value.
 */
export function jsonText(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(JSON_UNSAFE, jsonEscape);
}
