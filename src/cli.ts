// mailgw-ha: the extension's core behind a headless command line, for scripts and tests.
import { runCli } from './cli/main';

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`mailgw-ha: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
