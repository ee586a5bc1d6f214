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

/**
 * @typedef {{ unit: string, server: string, service: string, spoolDir: string, logFile: string,
 *   sinkFile: string, readyFile: string, pauseFile: string, deliveryDelayMs: number,
 *   scanDelayMs: number, rotateEverySec: number, tickMs: number }} Config
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

/** @param {'Info'|'Warning'|'Error'} level @param {string} message */
function log(level, message) {
  const d = new Date();
  const stamp = `${d.getUTCFullYear()} ${pad(d.getUTCMonth() + 1)} ${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +00:00`;
  const line = `${stamp} ${level.padEnd(8)} ${message}\n`;
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
      const rcpt = /^RCPT TO:\s*<?([^>\r\n]*)>?/m.exec(fs.readFileSync(env, 'utf8'));
      fs.mkdirSync(path.dirname(config.sinkFile), { recursive: true });
      fs.appendFileSync(config.sinkFile, JSON.stringify({ messageId, id, unit: config.unit, at: new Date().toISOString() }) + '\n');
      fs.unlinkSync(body);
      fs.unlinkSync(env);
      log('Info', `DELIVERY mail delivered (id=${id}, message-id=${messageId}, to=${rcpt ? rcpt[1] : ''})`);
    } catch {
      // Removed or changed under us: look again next tick.
    }
  }
}

// ---- main loop -------------------------------------------------------------------------------

let busy = false;
function schedule() {
  if (busy) return;
  busy = true;
  setTimeout(() => {
    busy = false;
    while (pending.length > 0) {
      const what = pending.shift();
      if (what === 'usr2') insertInput();
      else if (what === 'hup') rotate();
      else if (what === 'term') {
        log('Info', 'SERVICE gateway stopped');
        process.exit(0);
      }
    }
  }, 0);
}

log('Info', `SERVICE gateway started (pid=${process.pid})`);
setInterval(() => {
  try {
    tick();
  } catch (e) {
    log('Error', `SERVICE ${e instanceof Error ? e.message : e}`);
  }
}, config.tickMs);
if (config.rotateEverySec > 0) setInterval(rotate, config.rotateEverySec * 1000);
fs.writeFileSync(config.readyFile, JSON.stringify({ pid: process.pid }));
schedule();
