// The page every webview of the extension is: a strict Content-Security-Policy (nothing but the
// extension's own stylesheet and one nonce'd script from dist/webview), no inline handlers; the body
// is the caller's fixed markup (untrusted text only ever arrives later, by message, as textContent).
import * as crypto from 'crypto';
import * as vscode from 'vscode';

export function webviewPage(webview: vscode.Webview, extensionUri: vscode.Uri, page: { title: string; css: string; script: string; body: string; bodyAttributes?: string }): string {
  const nonce = crypto.randomBytes(16).toString('base64');
  const css = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', page.css));
  const js = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', page.script));
  const csp = `default-src 'none'; style-src ${webview.cspSource}; script-src 'nonce-${nonce}'; img-src ${webview.cspSource};`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${css}">
<title>${page.title}</title>
</head>
<body${page.bodyAttributes ? ` ${page.bodyAttributes}` : ''}>
${page.body}
<script nonce="${nonce}" src="${js}"></script>
</body>
</html>`;
}
