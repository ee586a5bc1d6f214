// `mailgw-ha audit [--cluster NAME] [--json|--jsonl|--csv]`: the audit trail of this machine (every
// action of the extension and the CLI that changed a unit), oldest first. Reads the file only: no
// settings are needed unless the audit file is set there (--settings FILE), and no unit is contacted.
import { formatTable } from '../core/export/table';
import { auditLine, auditTable, readAuditTrail } from '../core/audit/read';
import { readSettingFile } from '../core/files';
import { ParsedArgs, UsageError } from './args';
import { cliAuditTarget } from './auditSink';
import { CliFailure, stripJsonComments } from './context';
import { registerVerb } from './main';
import { printErrorLine, printExport, printJson, printLine } from './out';

async function auditVerb(args: ParsedArgs): Promise<number> {
  if (args.positionals.length) throw new UsageError('audit takes no arguments (--cluster NAME chooses a cluster)');
  const formats = (['json', 'jsonl', 'csv'] as const).filter((f) => args.options.has(f));
  if (formats.length > 1) throw new UsageError('audit: --json, --jsonl and --csv exclude each other');
  let raw: Record<string, unknown> | undefined;
  const settingsFile = args.options.get('settings');
  if (typeof settingsFile === 'string') {
    try {
      raw = JSON.parse(stripJsonComments(readSettingFile(settingsFile, '--settings', 8 << 20).toString('utf8'))) as Record<string, unknown>;
    } catch (err) {
      throw new CliFailure(`cannot read settings file ${settingsFile}: ${(err as Error).message}`);
    }
  }
  const target = cliAuditTarget(args, raw);
  if ('error' in target) throw new CliFailure(target.error);
  const cluster = args.options.get('cluster');
  let trail;
  try {
    trail = readAuditTrail(target.file, { cluster: typeof cluster === 'string' ? cluster : undefined });
  } catch (e) {
    throw new CliFailure((e as Error).message);
  }
  const notes: string[] = [];
  if (!trail.exists) notes.push(`no audit trail yet at ${target.file} (nothing that changes a unit was done with this audit file)`);
  if (trail.skippedBytes) notes.push(`the audit trail ${target.file} is large: its first ${trail.skippedBytes} bytes (the oldest records) are not shown; read the file itself for them`);
  if (trail.badLines) notes.push(`${trail.badLines} line(s) of ${target.file} are not audit records and were skipped`);
  const format = formats[0];
  if (format === 'json') printJson({ file: target.file, exists: trail.exists, skippedBytes: trail.skippedBytes, badLines: trail.badLines, records: trail.records });
  else if (format) printExport(formatTable(auditTable(trail.records), format));
  else for (const r of trail.records) printLine(auditLine(r));
  for (const n of notes) printErrorLine(`mailgw-ha: ${n}`);
  return 0;
}

registerVerb('audit', auditVerb);
