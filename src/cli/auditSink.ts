// The CLI's audit trail: --audit-log FILE, else $MAILGW_HA_AUDIT_LOG, else the settings file's
// mailgwHa.auditLogFile (the extension's setting), else <state home>/mailgw-ha/audit.jsonl.
import { AuditLog } from '../core/audit/log';
import { resolveAuditFile } from '../core/audit/record';
import type { Logger } from '../core/host';
import type { ParsedArgs } from './args';

export function cliAuditTarget(args: ParsedArgs, raw?: Record<string, unknown>): { file: string } | { error: string } {
  const opt = args.options.get('audit-log');
  const env = process.env.MAILGW_HA_AUDIT_LOG;
  const r =
    typeof opt === 'string'
      ? resolveAuditFile(opt, '--audit-log', process.cwd())
      : env
        ? resolveAuditFile(env, 'MAILGW_HA_AUDIT_LOG', process.cwd())
        : resolveAuditFile(raw?.['mailgwHa.auditLogFile'], 'mailgwHa.auditLogFile in the settings file');
  return r.file !== undefined ? { file: r.file } : { error: r.error };
}

/** The audit log the verbs that change units append to; a failed append is a warning on stderr. */
export function cliAuditLog(args: ParsedArgs, raw: Record<string, unknown>, logger: Logger): AuditLog {
  return new AuditLog(cliAuditTarget(args, raw), 'cli', (m) => logger.warn(m));
}
