// --jsonl / --csv: which export a verb prints (--json stays one JSON document, the CLI's contract).
import type { ExportFormat } from '../core/export/table';
import { ParsedArgs, UsageError } from './args';

export function exportFormat(args: ParsedArgs): ExportFormat | undefined {
  const chosen = (['json', 'jsonl', 'csv'] as const).filter((f) => args.options.has(f));
  if (chosen.length > 1) throw new UsageError(`choose one of --json, --jsonl and --csv, not ${chosen.map((f) => `--${f}`).join(' and ')}`);
  return chosen[0] === 'json' ? undefined : chosen[0];
}
