// ssh2 is loaded when the first connection needs it, not when the extension activates: compiling
// and evaluating it (its crypto self-tests, its WebAssembly, node's zlib) was the larger part of
// loading the extension's bundle. The extension takes it from dist/ssh2.js (see esbuild.js);
// everything else bundles it.
import type * as Ssh2 from 'ssh2';

let loaded: typeof Ssh2 | undefined;

export function ssh2(): typeof Ssh2 {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  loaded ??= require('ssh2') as typeof Ssh2;
  return loaded;
}
