// @ts-check
// Mail gateway simulator: one per lab unit, run only on the active unit, inside the unit's mount and
// PID namespaces. Started through a symlink named "<server>_<service>" that points at node, so its
// process name (comm) is that name cut to 15 characters, as on a real box.
// Usage: <server>_<service> gateway-sim.js CONFIG.json   (config written by test/lab/unit.ts)
'use strict';

// First thing: SIGUSR2's default action would kill the process.
/** @type {string[]} */
const pending = [];
process.on('SIGUSR2', () => pending.push('usr2') && schedule());
process.on('SIGHUP', () => pending.push('hup') && schedule());
process.on('SIGTERM', () => pending.push('term') && schedule());
process.on('SIGINT', () => pending.push('term') && schedule());

const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { spawn } = require('child_process');

/**
 * @typedef {{ unit: string, server: string, service: string, spoolDir: string, logFile: string,
 *   sinkFile: string, readyFile: string, pauseFile: string, deliveryDelayMs: number,
 *   scanDelayMs: number, rotateEverySec: number, tickMs: number, sync: SyncConfig | null, log?: LogStyle }} Config
 * @typedef {{ delayMs: number, partnerAddress: string, port: number, keyFile: string, knownHostsFile: string,
 *   partitionFile: string, tlogFile: string, sshOptions?: string[] }} SyncConfig
 * @typedef {{ style: 'lab' } | { style: 'box', timeZone: string, noiseEveryMs: number }} LogStyle
 *   lab: UTC, "+00:00" before the type. box (the box-log profile): the unit's local time, the type
 *   before the offset, as the box's documentation shows, with Notice/Security/Internal lines between.
 */
/** @type {Config} */
const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const dirs = {
  spool: path.join(config.spoolDir, 'spool'),
  vscan: path.join(config.spoolDir, 'vscan'),
  input: path.join(config.spoolDir, 'input'),
};

// ---- log -------------------------------------------------------------------------------------

const pad = (/** @type {number} */ n, w = 2) => String(n).padStart(w, '0');

const logStyle = config.log ?? { style: 'lab' };
const zoned =
  logStyle.style === 'box'
    ? new Intl.DateTimeFormat('en-US', { timeZone: logStyle.timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'longOffset' })
    : undefined;

/** "YYYY MM DD HH:MM:SS <Type padded to 8> ..." in the unit's log style. @param {Date} d @param {string} level */
function prefix(d, level) {
  if (!zoned) return `${d.getUTCFullYear()} ${pad(d.getUTCMonth() + 1)} ${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +00:00 ${level.padEnd(8)}`;
  const parts = zoned.formatToParts(d);
  const get = (/** @type {string} */ t) => parts.find((p) => p.type === t)?.value ?? '';
  const offset = get('timeZoneName').replace(/^GMT/, '') || '+00:00';
  return `${get('year')} ${get('month')} ${get('day')} ${get('hour')}:${get('minute')}:${get('second')} ${level.padEnd(8)} ${offset}`;
}

/** @param {'Info'|'Notice'|'Warning'|'Error'|'Security'|'Internal'} level @param {string} message */
function log(level, message) {
  const line = `${prefix(new Date(), level)} ${message}\n`;
  // One append per line: whoever rotates or truncates the file meanwhile is honoured.
  try {
    fs.appendFileSync(config.logFile, line);
  } catch {
    fs.mkdirSync(path.dirname(config.logFile), { recursive: true });
    fs.appendFileSync(config.logFile, line);
  }
}

/** Rename the current log aside as "<log>.<YYYYMMDD-HHMMSS>" (made unique) and start a new one. */
function rotate() {
  const d = new Date();
  const base = `${config.logFile}.${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}-${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
  let aside = base;
  for (let i = 2; fs.existsSync(aside); i++) aside = `${base}-${i}`;
  if (!fs.existsSync(config.logFile)) fs.writeFileSync(config.logFile, '');
  fs.renameSync(config.logFile, aside);
  fs.writeFileSync(config.logFile, '', { flag: 'a' });
}

// ---- mail files ------------------------------------------------------------------------------

/** @param {string} name */
function mailFile(name) {
  if (name.startsWith('.')) return null;
  const m = /^(.+)\.(body|env)$/.exec(name);
  return m ? { id: m[1], part: m[2] } : null;
}

/** Complete pairs and incomplete halves in a folder, in name order. @param {string} dir */
function scan(dir) {
  /** @type {Map<string, Set<string>>} */
  const ids = new Map();
  let names = [];
  try {
    names = fs.readdirSync(dir).sort();
  } catch {
    return { complete: [], incomplete: [] };
  }
  for (const name of names) {
    const m = mailFile(name);
    if (!m) continue;
    if (!ids.has(m.id)) ids.set(m.id, new Set());
    ids.get(m.id)?.add(m.part);
  }
  /** @type {string[]} */ const complete = [];
  /** @type {string[]} */ const incomplete = [];
  for (const [id, parts] of ids) {
    if (parts.size === 2) complete.push(id);
    else incomplete.push(`${id}.${[...parts][0]}`);
  }
  return { complete, incomplete };
}

const digits5 = () => String(crypto.randomInt(0, 100000)).padStart(5, '0');

/** @param {string} id */
function idTaken(id) {
  return Object.values(dirs).some((d) => fs.existsSync(path.join(d, `${id}.body`)) || fs.existsSync(path.join(d, `${id}.env`)));
}

/** Move a complete pair into spool/ (.body first, .env last); returns the id it got there. @param {string} fromDir @param {string} id */
function moveToSpool(fromDir, id) {
  let newId = id;
  if (fs.existsSync(path.join(dirs.spool, `${id}.body`)) || fs.existsSync(path.join(dirs.spool, `${id}.env`))) {
    do newId = `${digits5()}-${digits5()}-${digits5()}`;
    while (idTaken(newId));
    log('Info', `SPOOLER id already in spool, mail renamed (id=${id}, new-id=${newId})`);
  }
  fs.renameSync(path.join(fromDir, `${id}.body`), path.join(dirs.spool, `${newId}.body`));
  if (newId === id) {
    fs.renameSync(path.join(fromDir, `${id}.env`), path.join(dirs.spool, `${newId}.env`));
  } else {
    const env = fs.readFileSync(path.join(fromDir, `${id}.env`), 'utf8').replace(/^Id: .*$/m, `Id: ${newId}`);
    fs.writeFileSync(path.join(dirs.spool, `${newId}.env`), env);
    fs.unlinkSync(path.join(fromDir, `${id}.env`));
  }
  return newId;
}

/** SIGUSR2: insert every complete pair from input/. */
function insertInput() {
  const { complete, incomplete } = scan(dirs.input);
  for (const id of complete) {
    try {
      const newId = moveToSpool(dirs.input, id);
      log('Info', `SPOOLER new mail inserted (id=${newId})`);
    } catch (e) {
      log('Error', `SPOOLER cannot insert mail (id=${id}): ${e instanceof Error ? e.message : e}`);
    }
  }
  for (const name of incomplete) log('Warning', `SPOOLER incomplete mail in input ignored (file=${name})`);
}

/** @param {string} file */
function ageMs(file) {
  return Date.now() - fs.statSync(file).mtimeMs;
}

/** The Message-ID header of a .body (headers only; folded headers unfolded). @param {string} file */
function messageIdOf(file) {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(65536);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    const text = buf.subarray(0, n).toString('utf8');
    const end = text.search(/\r?\n\r?\n/);
    const head = (end < 0 ? text : text.slice(0, end)).replace(/\r?\n[ \t]+/g, ' ');
    const m = /^message-id:\s*(.*?)\s*$/im.exec(head);
    return m ? m[1] : '';
  } finally {
    fs.closeSync(fd);
  }
}

/** Each tick: scanned mail leaves vscan/, mail old enough in spool/ is delivered to the sink. */
function tick() {
  for (const id of scan(dirs.vscan).complete) {
    try {
      if (ageMs(path.join(dirs.vscan, `${id}.body`)) < config.scanDelayMs || ageMs(path.join(dirs.vscan, `${id}.env`)) < config.scanDelayMs) continue;
      const newId = moveToSpool(dirs.vscan, id);
      log('Info', `VSCAN mail scanned clean (id=${newId})`);
    } catch {
      // Removed or changed under us: look again next tick.
    }
  }
  if (fs.existsSync(config.pauseFile)) return;
  for (const id of scan(dirs.spool).complete) {
    const body = path.join(dirs.spool, `${id}.body`);
    const env = path.join(dirs.spool, `${id}.env`);
    try {
      if (ageMs(env) < config.deliveryDelayMs) continue;
      const messageId = messageIdOf(body);
      const envText = fs.readFileSync(env, 'utf8');
      const from = /^MAIL FROM:\s*<([^>\r\n]*)>/m.exec(envText)?.[1] ?? '';
      const to = [...envText.matchAll(/^RCPT TO:\s*<([^>\r\n]*)>/gm)].map((m) => m[1]);
      // What the recipients see, for the lab's oracle: one delivery of this transaction (its
      // envelope and the exact bytes of its content), whatever its id and Message-ID.
      const bodySha256 = crypto.createHash('sha256').update(fs.readFileSync(body)).digest('hex');
      fs.mkdirSync(path.dirname(config.sinkFile), { recursive: true });
      fs.appendFileSync(config.sinkFile, JSON.stringify({ messageId, id, unit: config.unit, from, to, bodySha256, at: new Date().toISOString() }) + '\n');
      fs.unlinkSync(body);
      fs.unlinkSync(env);
      // One line per recipient, as MTAs log deliveries.
      for (const rcpt of to.length ? to : ['']) log('Info', `DELIVERY mail delivered (id=${id}, message-id=${messageId}, to=${rcpt})`);
      if (config.sync) syncDelivered(id);
    } catch {
      // Removed or changed under us: look again next tick.
    }
  }
}


// ---- HA sync ---------------------------------------------------------------------------------
// The active unit mirrors each spooled mail to its partner's spool/ within sync.delayMs, removes the
// partner's copy when it delivers the mail, and queues what fails (partner down, link cut) in a
// transaction log of pending actions, retried every 2 s. One-way: nothing flows back.
// What is queued in memory or on its way right now is mirrored in "<tlog>.busy", so that a lab waiting
// for quiet sees an action that has not reached the partner yet. A stop lets the action on its way
// finish before the rest goes to the transaction log: a copy that landed after the takeover handed
// the deletes over would be a mail the new active unit delivers a second time.

/** @typedef {{ op: 'copy' | 'delete', id: string, at: string }} SyncAction */

/** Ids mirrored (or queued to be) to the partner. */
const mirrored = new Set();
/** When each spooled id was first seen, for its per-mail sync delay. @type {Map<string, number>} */
const firstSeen = new Map();
/** @type {SyncAction[]} */
const queue = [];
/** The action being sent right now (kept so that a stop can persist it). @type {SyncAction | undefined} */
let inFlight;
/** The process carrying the action on its way (its own process group: sh, tar, ssh). @type {import('child_process').ChildProcess | undefined} */
let inFlightChild;
let syncing = false;
let stopping = false;
let lastRetry = 0;
/** Settles when the drain loop has nothing on its way. @type {Promise<void>} */
let drained = Promise.resolve();

function busyFile() {
  return `${/** @type {SyncConfig} */ (config.sync).tlogFile}.busy`;
}
/** Mirrors the in-memory queue (and the action on its way) on disk; removed when there is none. */
function writeBusy() {
  if (!config.sync) return;
  const actions = [...(inFlight ? [inFlight] : []), ...queue];
  try {
    if (!actions.length) fs.rmSync(busyFile(), { force: true });
    else {
      fs.writeFileSync(`${busyFile()}.tmp`, actions.map((a) => JSON.stringify(a) + '\n').join(''));
      fs.renameSync(`${busyFile()}.tmp`, busyFile());
    }
  } catch {
    // Only a view for the lab's waits; the queue itself is in memory and persisted on stop.
  }
}

function readTlog() {
  const s = /** @type {SyncConfig} */ (config.sync);
  try {
    return /** @type {SyncAction[]} */ (fs.readFileSync(s.tlogFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)));
  } catch {
    return [];
  }
}

/** @param {SyncAction[]} actions */
function writeTlog(actions) {
  const s = /** @type {SyncConfig} */ (config.sync);
  const tmp = `${s.tlogFile}.tmp`;
  fs.writeFileSync(tmp, actions.map((a) => JSON.stringify(a) + '\n').join(''));
  fs.renameSync(tmp, s.tlogFile);
}

/** Per-mail delay in [delayMs/4, delayMs], stable for an id. @param {string} id */
function syncDelayOf(id) {
  const s = /** @type {SyncConfig} */ (config.sync);
  const h = crypto.createHash('sha1').update(id).digest().readUInt32BE(0) / 0xffffffff;
  return s.delayMs * (0.25 + 0.75 * h);
}

/** Runs one action on the partner over SSH. @param {SyncAction} a @returns {Promise<boolean>} */
function runOnPartner(a) {
  const s = /** @type {SyncConfig} */ (config.sync);
  if (fs.existsSync(s.partitionFile)) return Promise.resolve(false);
  const spool = dirs.spool;
  const ssh = ['-o', 'BatchMode=yes', '-o', 'ConnectTimeout=15', ...(s.sshOptions ?? []).flatMap((o) => ['-o', o]), '-o', `UserKnownHostsFile=${s.knownHostsFile}`, '-o', 'StrictHostKeyChecking=yes', '-i', s.keyFile, '-p', String(s.port), `root@${s.partnerAddress}`];
  return new Promise((resolve) => {
    // Ids are the simulator's own file names (checked below); the remote script takes them as "$1".
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(a.id)) return resolve(true);
    let child;
    if (a.op === 'copy') {
      const script = `d=${spool}; mkdir -p "$d/.sync" && tar -xf - -C "$d/.sync" && mv -f "$d/.sync/$1.body" "$d/$1.body" && mv -f "$d/.sync/$1.env" "$d/$1.env"`;
      // Local: tar the pair; remote: untar into spool/.sync, then rename into place (.body first).
      child = spawn('sh', ['-c', 'sp=$0; id=$1; shift; tar -C "$sp" -cf - "$id.body" "$id.env" | ssh "$@" "sh -c \'$SYNC_SCRIPT\' sh $id"', spool, a.id, ...ssh], {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, SYNC_SCRIPT: script },
        detached: true,
      });
    } else {
      child = spawn('ssh', [...ssh, 'rm', '-f', '--', `${spool}/${a.id}.body`, `${spool}/${a.id}.env`], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    }
    inFlightChild = child;
    let err = '';
    child.stderr?.on('data', (d) => (err += d));
    child.on('error', () => resolve(false));
    child.on('exit', (code) => {
      inFlightChild = undefined;
      if (code !== 0 && a.op === 'copy' && /No such file/.test(err)) return resolve(true); // delivered meanwhile
      resolve(code === 0);
    });
  });
}

/** @param {SyncAction} a */
function enqueue(a) {
  queue.push(a);
  writeBusy();
  void drain();
}

function drain() {
  if (syncing || stopping) return;
  drained = drainNow();
}

async function drainNow() {
  syncing = true;
  try {
    // Pending actions from the transaction log go first, in order.
    let pending = readTlog();
    if (pending.length && Date.now() - lastRetry >= 2000) {
      lastRetry = Date.now();
      while (pending.length && !stopping) {
        inFlight = pending[0];
        const sent = await runOnPartner(pending[0]);
        inFlight = undefined;
        if (!sent) break;
        log('Info', `SYNC pending action done (op=${pending[0].op}, id=${pending[0].id})`);
        pending = pending.slice(1);
        writeTlog(pending);
      }
    }
    while (queue.length && !stopping) {
      const a = /** @type {SyncAction} */ (queue.shift());
      inFlight = a;
      const sent = !pending.length && (await runOnPartner(a));
      if (!sent) {
        pending.push(a);
        writeTlog(pending);
        inFlight = undefined;
        writeBusy();
        log('Warning', `SYNC partner unreachable, action queued (op=${a.op}, id=${a.id}, pending=${pending.length})`);
        continue;
      }
      inFlight = undefined;
      writeBusy();
      log('Info', a.op === 'copy' ? `SYNC mail mirrored to partner (id=${a.id})` : `SYNC partner copy removed (id=${a.id})`);
    }
  } finally {
    syncing = false;
  }
}

/** Each tick: spooled mails whose sync delay has passed go to the partner. */
function syncTick() {
  if (stopping) return;
  const now = Date.now();
  const present = new Set(scan(dirs.spool).complete);
  for (const id of present) {
    if (mirrored.has(id)) continue;
    if (!firstSeen.has(id)) firstSeen.set(id, now);
    if (now - /** @type {number} */ (firstSeen.get(id)) < syncDelayOf(id)) continue;
    mirrored.add(id);
    enqueue({ op: 'copy', id, at: new Date().toISOString() });
  }
  for (const id of firstSeen.keys()) if (!present.has(id) && !mirrored.has(id)) firstSeen.delete(id);
  if (readTlog().length && !syncing && now - lastRetry >= 2000) void drain();
}

/**
 * On stop: actions not yet confirmed sent (queued, or in flight) go to the transaction log, as a
 * box's sync keeps its pending actions across a restart or a takeover. Both ops are idempotent, so
 * one that did reach the partner is harmless to replay.
 */
function persistQueue() {
  if (!config.sync) return;
  const pending = readTlog();
  const keep = (/** @type {SyncAction} */ a) => !pending.some((p) => p.op === a.op && p.id === a.id);
  const add = [...(inFlight ? [inFlight] : []), ...queue].filter(keep);
  if (add.length) writeTlog([...pending, ...add]);
  queue.length = 0;
  inFlight = undefined;
  writeBusy();
}

/**
 * A stop lets the sync action on its way finish (bounded: a hung one is killed with its process group
 * and replayed later, both ops being idempotent), so no copy lands on the partner after this unit
 * stopped.
 */
async function stopSync() {
  if (!config.sync) return;
  stopping = true;
  let timer;
  const bound = new Promise((resolve) => (timer = setTimeout(resolve, 20_000, 'timeout')));
  const how = await Promise.race([drained.then(() => 'done'), bound]);
  clearTimeout(timer);
  if (how === 'timeout' && inFlightChild?.pid) {
    try {
      process.kill(-inFlightChild.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  persistQueue();
}

/** A delivered mail is deleted on the partner, whoever put the copy there. @param {string} id */
function syncDelivered(id) {
  firstSeen.delete(id);
  mirrored.delete(id);
  enqueue({ op: 'delete', id, at: new Date().toISOString() });
}

// ---- main loop -------------------------------------------------------------------------------

let busy = false;
let stopRequested = false;
/** A SIGUSR2 that came while insertion was paused (Lab.pauseInsertion): done once it is resumed. */
let insertDeferred = false;
const insertPaused = () => fs.existsSync(`${config.pauseFile}-insert`);
function schedule() {
  if (busy) return;
  busy = true;
  setTimeout(() => {
    busy = false;
    while (pending.length > 0) {
      const what = pending.shift();
      if (what === 'usr2') {
        if (stopRequested) continue; // a gateway on its way down inserts nothing more
        if (insertPaused()) insertDeferred = true;
        else insertInput();
      } else if (what === 'hup') rotate();
      else if (what === 'term') {
        if (stopRequested) continue;
        stopRequested = true;
        void stopSync().finally(() => {
          log('Info', 'SERVICE gateway stopped');
          process.exit(0);
        });
      }
    }
  }, 0);
}

log('Info', `SERVICE gateway started (pid=${process.pid})`);
if (config.sync) fs.rmSync(busyFile(), { force: true }); // left by a predecessor that was killed
setInterval(() => {
  if (stopRequested) return;
  if (insertDeferred && !insertPaused()) {
    insertDeferred = false;
    insertInput();
  }
  try {
    tick();
    if (config.sync) syncTick();
  } catch (e) {
    log('Error', `SERVICE ${e instanceof Error ? e.message : e}`);
  }
}, config.tickMs);
if (config.rotateEverySec > 0) setInterval(rotate, config.rotateEverySec * 1000);
// box-log: the box's log holds more than the mail lines; other types come between them.
if (logStyle.style === 'box' && logStyle.noiseEveryMs > 0) {
  let beat = 0;
  setInterval(() => {
    if (stopRequested) return;
    beat++;
    log('Notice', 'SERVICE heartbeat');
    if (beat % 3 === 0) log('Security', `SMTP connection from 198.51.100.${(beat % 250) + 1} refused by policy`);
    if (beat % 5 === 0) {
      const n = (/** @type {keyof typeof dirs} */ k) => scan(dirs[k]).complete.length;
      log('Internal', `SPOOLER queue check (spool=${n('spool')}, vscan=${n('vscan')}, input=${n('input')})`);
    }
  }, logStyle.noiseEveryMs);
}
fs.writeFileSync(config.readyFile, JSON.stringify({ pid: process.pid }));
schedule();
