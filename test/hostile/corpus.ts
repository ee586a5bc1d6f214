// Hostile strings: what a compromised or spoofed unit, a hostile repository or a hostile mail can
// put into a server message, a file name, a header value, a log line or a settings value. Shared by
// the unit tests of the neutralisers (test/unit/core/text.test.ts), the lab suite
// (test/integration/hostile.test.ts) and the VS Code host suite (test/suite/lab.zz-hostile.test.ts).

/** The link that deleted mail in the security review: one click ran Remove Mails without a dialog. */
export const COMMAND_LINK = '[Update trusted host key](command:mailgwHa.removeMails?%5B%7B%22yes%22%3Atrue%2C%22confirmUnconfirmed%22%3Atrue%7D%5D)';

export const HOSTILE_TEXTS: readonly { readonly name: string; readonly text: string }[] = [
  { name: 'markdown command link', text: COMMAND_LINK },
  { name: 'command link with JSON args', text: '[Fix now](command:mailgwHa.recover?[{"yes":true}])' },
  { name: 'https link', text: 'see [the docs](https://evil.example/steal)' },
  { name: 'file link', text: '[open](file:///etc/shadow)' },
  { name: 'link with title', text: '[ok](command:workbench.action.terminal.new "Run")' },
  { name: 'nested brackets', text: '[[a]](command:mailgwHa.removeMails)' },
  { name: 'backslash-escaped link (VS Code ignores the escapes)', text: '\\[x\\](command:mailgwHa.removeMails)' },
  { name: 'image', text: '![x](https://evil.example/pixel.png)' },
  { name: 'html anchor', text: '<a href="command:mailgwHa.removeMails">click</a>' },
  { name: 'html img onerror', text: '<img src=x onerror="alert(1)">' },
  { name: 'angle autolink', text: '<https://evil.example/>' },
  { name: 'bare url', text: 'go to https://evil.example/login now' },
  { name: 'www autolink', text: 'www.evil.example' },
  { name: 'email autolink', text: 'admin@evil.example' },
  { name: 'codicon', text: '$(check) all mails recovered' },
  { name: 'spinning codicon', text: '$(loading~spin) $(warning)' },
  { name: 'markdown emphasis and code', text: '**bold** _it_ `code` ~~del~~' },
  { name: 'table pipes and heading', text: '# big\n| a | b |\n|---|---|' },
  { name: 'ESC clear screen', text: '\u001b[2J\u001b[HFAKE: all mails recovered OK' },
  { name: 'OSC window title with BEL', text: '\u001b]0;pwned\u0007name' },
  { name: 'OSC 8 hyperlink', text: '\u001b]8;;https://evil.example\u001b\\click\u001b]8;;\u001b\\' },
  { name: 'C1 CSI', text: '\u009b2J\u009b31mred' },
  { name: 'C1 OSC and ST', text: '\u009d0;title\u009c' },
  { name: 'DEL and NUL', text: 'a\u007fb\u0000c' },
  { name: 'backspaces over text', text: 'DANGER\b\b\b\b\b\bsafe  ' },
  { name: 'carriage return overwrite', text: 'removed 5 mails\rremoved 0 mails' },
  { name: 'newline fake line', text: 'x\nmailgw-ha: all mails recovered OK' },
  { name: 'CRLF fake log entry', text: 'x\r\n2026-01-01 [info] trusted' },
  { name: 'unicode line separators', text: 'a\u2028b\u2029c' },
  { name: 'bidi override (gnp.exe)', text: 'invoice\u202Egnp.exe' },
  { name: 'bidi isolates', text: '\u2067abc\u2069\u2066def\u2069' },
  { name: 'bidi marks, zero-width and BOM', text: 'a\u200fb\u200bc\ufeffd\u061ce' },
  { name: 'tab in a name', text: 'id\tFAKE COLUMN' },
  // Added by the review of issue 27 (F10): invisible characters the first list missed, and a link a
  // Markdown renderer makes of a bare URL with a numeric host.
  { name: 'soft hyphen, Mongolian vowel separator, Hangul filler', text: 'pay\u00adpal\u180e.example\u3164 login' },
  { name: 'Unicode tag characters (invisible ASCII)', text: 'ok\u{E0001}\u{E0069}\u{E0067}\u{E006E}\u{E006F}\u{E0072}\u{E0065}\u{E007F} fine' },
  { name: 'bare URL with a numeric host', text: 'held: see http://3232235777/reset and mailto:a@b.example' },
  { name: 'very long string', text: '[x](command:y) '.repeat(70_000) },
];
