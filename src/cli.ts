// mailgw-ha: the extension's core behind a headless command line, for scripts and tests.
import { CliFailure } from './cli/context';
import { runCli } from './cli/main';
import './cli/status';
import './cli/ls';
import './cli/recover';
import './cli/held';
import './cli/signal';
import './cli/logs';
import './cli/audit';
import './cli/shape';
import './cli/doctor';
import { printErrorLine } from './cli/out';

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    printErrorLine(`mailgw-ha: ${err instanceof CliFailure || err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
