// Characters no untrusted text may carry to a screen as themselves: C0 and C1 controls and DEL
// (terminal escapes, fake line breaks), and the invisible formatting characters that reorder or
// hide text (bidi overrides such as U+202E turn "gnp.exe" around). Each sink shows them as a
// visible `\xNN` / `\uNNNN` escape, so the admin sees that something odd was there.

// eslint-disable-next-line no-control-regex -- control characters are exactly what is matched
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
// eslint-disable-next-line no-control-regex -- as above, without line feed
const CONTROL_BUT_LF = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g;
/**
 * Bidi embeddings/overrides/isolates and marks, zero-width characters, BOM, line/paragraph
 * separators; the soft hyphen (U+00AD), the Mongolian vowel separator (U+180E) and the Hangul filler
 * (U+3164), which draw as nothing; and the tag characters U+E0000–U+E007F (invisible copies of ASCII,
 * in UTF-16 the surrogate pairs \udb40\udc00–\udb40\udc7f).
 */
const INVISIBLE = /[\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\u3164\ufeff]|\udb40[\udc00-\udc7f]/g;
/** The same characters, for a check that must not keep state between calls. */
export const INVISIBLE_SOURCE = INVISIBLE.source;

/** `\xNN` up to U+00FF, `\uNNNN` in the BMP, `\u{NNNNN}` beyond (a tag character). */
export function visibleEscape(c: string): string {
  const n = c.codePointAt(0) ?? 0;
  if (n > 0xffff) return `\\u{${n.toString(16)}}`;
  return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
}

/** Replaces controls (all, or all but "\n") and invisible formatting characters by visible escapes. */
export function escapeControls(text: string, keepNewlines = false): string {
  return text.replace(keepNewlines ? CONTROL_BUT_LF : CONTROL, visibleEscape).replace(INVISIBLE, visibleEscape);
}

/** Whether a string holds anything escapeControls would change. */
export function hasControls(text: string): boolean {
  CONTROL.lastIndex = INVISIBLE.lastIndex = 0;
  return CONTROL.test(text) || INVISIBLE.test(text);
}

/** Cuts to at most `max` UTF-16 units (never inside a surrogate pair), marking the cut. */
export function capLength(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = Math.max(0, max - 1);
  if (end > 0 && /[\ud800-\udbff]/.test(text[end - 1])) end--;
  return `${text.slice(0, end)}…`;
}

/** Any value (an Error, undefined, an object from a library) as a string, without throwing. */
export function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Error) return value.message;
  try {
    return String(value);
  } catch {
    return '(unprintable value)';
  }
}
