// Where an export (folder listing, fleet status, queue shape, audit trail) is saved: one save dialog
// offering CSV and JSON lines (the format follows the name chosen), and one write whose failure is
// shown with the file it concerns instead of escaping as a raw error.
import * as fs from 'fs';
import * as vscode from 'vscode';
import * as safeWindow from './safeWindow';
import type { ExportFormat } from './core/export/table';
import { openPrivateFile } from './core/privateFiles';
import { asText } from './core/text/chars';

const FILTERS: Record<ExportFormat, Record<string, string[]>> = { csv: { CSV: ['csv'] }, jsonl: { 'JSON lines': ['jsonl'] } };

/** Asks where to save; `only` offers one format (the default name's extension should match it). */
export async function askExportFile(defaultName: string, title: string, only?: ExportFormat): Promise<{ uri: vscode.Uri; format: ExportFormat } | undefined> {
  const base = vscode.workspace.workspaceFolders?.[0]?.uri;
  const uri = await vscode.window.showSaveDialog({
    title,
    defaultUri: base ? vscode.Uri.joinPath(base, defaultName) : undefined,
    filters: only ? FILTERS[only] : { ...FILTERS.csv, ...FILTERS.jsonl },
  });
  if (!uri) return undefined;
  return { uri, format: only ?? (uri.path.toLowerCase().endsWith('.jsonl') ? 'jsonl' : 'csv') };
}

/**
 * Writes an export; false (and the user told why, naming the file) when it cannot be written. A
 * local file the export makes is private (0600) like the extension's other files; a file the user
 * chose to replace keeps its mode (it is theirs).
 */
export async function saveExport(uri: vscode.Uri, text: string): Promise<boolean> {
  try {
    if (uri.scheme === 'file' && writeNewPrivate(uri.fsPath, text)) return true;
    await vscode.workspace.fs.writeFile(uri, Buffer.from(text, 'utf8'));
    return true;
  } catch (err) {
    void safeWindow.showErrorMessage(`Mail Gateway HA: cannot write ${uri.fsPath}: ${asText(err)}`);
    return false;
  }
}

/** Makes the file 0600 and writes it; false if it exists already (then it is written as the user's own). */
function writeNewPrivate(file: string, text: string): boolean {
  let fd: number;
  try {
    fd = openPrivateFile(file, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    fs.writeFileSync(fd, text, 'utf8');
  } finally {
    fs.closeSync(fd);
  }
  return true;
}
