// ssh2 is loaded when the first connection needs it, not when the extension activates: evaluating
// it (its crypto self-tests, its WebAssembly, node's crypto and zlib) was most of the activation
// time. The extension's bundle takes it from dist/ssh2.js (see esbuild.js); everything else bundles it.
import type * as Ssh2 from 'ssh2';

let loaded: typeof Ssh2 | undefined;

export function ssh2(): typeof Ssh2 {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  loaded ??= require('ssh2') as typeof Ssh2;
  return loaded;
}
