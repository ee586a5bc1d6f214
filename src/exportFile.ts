// Where an export (folder listing, fleet status, queue shape, audit trail) is saved: one save dialog
// offering CSV and JSON lines (the format follows the name chosen), and one write whose failure is
// shown with the file it concerns instead of escaping as a raw error.
import * as vscode from 'vscode';
import * as safeWindow from './safeWindow';
import type { ExportFormat } from './core/export/table';
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

/** Writes an export; false (and the user told why, naming the file) when it cannot be written. */
export async function saveExport(uri: vscode.Uri, text: string): Promise<boolean> {
  try {
    await vscode.workspace.fs.writeFile(uri, Buffer.from(text, 'utf8'));
    return true;
  } catch (err) {
    void safeWindow.showErrorMessage(`Mail Gateway HA: cannot write ${uri.fsPath}: ${asText(err)}`);
    return false;
  }
}
