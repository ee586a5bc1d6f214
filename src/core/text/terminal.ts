// Untrusted text for a terminal (the CLI's stdout/stderr) and for line-oriented logs (the output
// channel): C0/C1 controls and DEL — ESC sequences that clear the screen, set the title (OSC) or
// move the cursor, and line breaks that fake a line of their own — and invisible formatting
// characters are written as visible escapes, like `ls -b`. A backslash is doubled so that an
// escape cannot be forged by the text itself.
import { asText, escapeControls } from './chars';

export function terminalText(value: unknown): string {
  return escapeControls(asText(value).replace(/\\/g, '\\\\'));
}

/** For a log line: as terminalText, but a backslash stays single (paths and regexes stay readable). */
export function logLineText(value: unknown): string {
  return escapeControls(asText(value));
}

const JSON_UNSAFE = /[\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/**
 * JSON for a terminal: JSON.stringify escapes C0 but writes DEL, C1 (U+009B is a CSI to some
 * terminals) and bidi characters raw; they are written as \uXXXX, which is the same JSON value.
 */
export function jsonText(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(JSON_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
