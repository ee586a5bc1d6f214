// The `minimal` profile's userland: a folder of BusyBox applet links (plus the name-taking /bin/kill
// and "whiteouts" for tools BusyBox does not have) that unit-init.sh stacks over /usr/bin as a
// read-only overlay inside the unit's mount namespace. /bin is /usr/bin on Debian (merged /usr), so
// /bin/sh, /bin/kill, /usr/bin/find ... all become BusyBox's there, whatever path or PATH names them.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/**
 * Tools replaced by BusyBox applets: every tool the extension's remote scripts run (src/core/**),
 * the seed procedure's, the HA sync's, and a few basics an admin types. `kill` is the wrapper below.
 */
export const BUSYBOX_TOOLS = [
  'sh', 'ls', 'find', 'stat', 'sha256sum', 'sha1sum', 'md5sum', 'tar', 'xargs', 'awk', 'sed', 'grep', 'egrep', 'fgrep',
  'head', 'tail', 'cat', 'wc', 'mktemp', 'gzip', 'gunzip', 'zcat', 'ln', 'rm', 'rmdir', 'mv', 'cp', 'mkdir', 'touch',
  'date', 'cut', 'tr', 'dirname', 'basename', 'sleep', 'printf', 'test', '[', 'echo', 'env', 'id', 'readlink', 'realpath',
  'sort', 'uniq', 'du', 'df', 'tee', 'true', 'false', 'expr', 'chmod', 'which', 'pidof', 'killall',
] as const;

/**
 * Tools of the Debian userland that Debian's BusyBox build has no applet for: absent on a minimal
 * unit (an overlay whiteout hides them), so the extension meets what a BusyBox box really lacks.
 */
export const ABSENT_TOOLS = ['pgrep', 'pkill', 'pidwait'] as const;

const KILL_WRAPPER = path.join(path.resolve(__dirname, '..', '..'), 'test', 'lab', 'kill-by-name.sh');

/** The BusyBox binary (busybox-static or busybox), by its path inside a unit (/usr/bin is the host's). */
export function busyboxBinary(): string {
  for (const p of ['/usr/bin/busybox', '/bin/busybox', '/usr/sbin/busybox', '/sbin/busybox']) {
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return fs.realpathSync(p);
    } catch {
      // next
    }
  }
  throw new Error('lab: the minimal profile needs BusyBox (apt-get install busybox-static)');
}

/** The applets this BusyBox has. */
export function busyboxApplets(binary = busyboxBinary()): string[] {
  return execFileSync(binary, ['--list'], { encoding: 'utf8' }).split('\n').filter((l) => l !== '');
}

export interface BusyboxLayer {
  /** Tools that are BusyBox applets on the unit. */
  applets: string[];
  /** Tools of BUSYBOX_TOOLS this BusyBox lacks (left as they are). */
  missing: string[];
  /** Hidden: not there at all on the unit. */
  absent: string[];
}

/**
 * (Re)writes the layer folder: a symlink to BusyBox per applet, `kill` (the wrapper, run by BusyBox
 * ash), and a whiteout (character device 0/0) per absent tool. Also writes `layer.json` (what is what).
 */
export function writeBusyboxLayer(dir: string): BusyboxLayer {
  const bin = busyboxBinary();
  const have = new Set(busyboxApplets(bin));
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const applets: string[] = [];
  const missing: string[] = [];
  for (const t of BUSYBOX_TOOLS) {
    if (!have.has(t)) {
      missing.push(t);
      continue;
    }
    fs.symlinkSync(bin, path.join(dir, t));
    applets.push(t);
  }
  fs.copyFileSync(KILL_WRAPPER, path.join(dir, 'kill'));
  fs.chmodSync(path.join(dir, 'kill'), 0o755);
  const absent: string[] = [];
  for (const t of ABSENT_TOOLS) {
    if (have.has(t)) {
      // A BusyBox build with that applet: use it.
      fs.symlinkSync(bin, path.join(dir, t));
      applets.push(t);
    } else {
      execFileSync('mknod', [path.join(dir, t), 'c', '0', '0']);
      absent.push(t);
    }
  }
  const layer = { applets, missing, absent };
  fs.writeFileSync(path.join(path.dirname(dir), 'busybox-layer.json'), JSON.stringify({ busybox: bin, ...layer, kill: 'test/lab/kill-by-name.sh (BusyBox ash + BusyBox kill)' }, null, 2) + '\n');
  return layer;
}
