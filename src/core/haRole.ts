// Which unit the box itself says is active, beside the gateway process the extension looks for: the
// box's control (`phionctrl server show` prints `active=1` where the server runs, Barracuda's own
// scripts go by that) and /opt/phion/run/server.ctrl, whose first line names this box the server's
// `primary` or `secondary` in its third field (docs/box-facts.md). Where the unit has neither, only
// the process counts. A disagreement between them, or with the settings' roles, is shown on the unit
// and blocks a recovery: moving mail on a wrong idea of which unit is active loses or doubles it.
import type { UnitConfig } from './config';

export interface HaFacts {
  /** `phionctrl server show` ran: whether it says the server is active here (undefined: it does not say). */
  readonly phionctrl?: { readonly active?: boolean; readonly excerpt: string };
  /** server.ctrl's role field (undefined: the line has no primary/secondary field). */
  readonly serverCtrl?: { readonly role?: 'primary' | 'secondary'; readonly excerpt: string };
}

/** Reads the "P"/"C" lines of the gateway look (gateway.ts FIND_SCRIPT); undefined when the unit has neither. */
export function parseHaFacts(lines: readonly string[], server: string): HaFacts | undefined {
  let ran = false;
  const p: string[] = [];
  let c: string | undefined;
  for (const l of lines) {
    if (l === 'P+') ran = true;
    else if (l.startsWith('P ')) p.push(l.slice(2));
    else if (l.startsWith('C ') && c === undefined) c = l.slice(2);
  }
  const out: { phionctrl?: HaFacts['phionctrl']; serverCtrl?: HaFacts['serverCtrl'] } = {};
  if (ran) out.phionctrl = { active: activeFlag(p, server), excerpt: p.slice(0, 6).join(' | ').slice(0, 300) };
  if (c !== undefined) {
    const f = c.trim().split(/\s+/)[2];
    out.serverCtrl = { role: f === 'primary' || f === 'secondary' ? f : undefined, excerpt: c.slice(0, 200) };
  }
  return out.phionctrl || out.serverCtrl ? out : undefined;
}

/**
 * The `active=` flag for `server` in phionctrl's output: the flag on the server's own line (or the
 * indented lines under it), else the one flag the output has; several and none of
 * them tied to the server: not known.
 */
function activeFlag(lines: readonly string[], server: string): boolean | undefined {
  const flags = (ls: readonly string[]) => ls.flatMap((l) => [...l.matchAll(/(?:^|[\s\t,;])active=(\d)\b/g)].map((m) => m[1] === '1'));
  const at = lines.findIndex((l) => l.split(/\s+/)[0] === server);
  if (at >= 0) {
    // The server's line and the indented lines under it.
    let end = at + 1;
    while (end < lines.length && /^\s/.test(lines[end])) end++;
    const own = flags(lines.slice(at, end));
    if (own.length) return own[0];
  }
  const all = [...new Set(flags(lines))];
  return all.length === 1 ? all[0] : undefined;
}

/**
 * Why what the unit's control says does not agree with the gateway process found there or with the
 * settings, or undefined. `running`: the gateway process runs on this unit.
 */
export function haDisagreement(unit: UnitConfig, running: boolean, ha: HaFacts | undefined): string | undefined {
  if (!ha) return undefined;
  const problems: string[] = [];
  const a = ha.phionctrl?.active;
  if (a !== undefined && a !== running) problems.push(`"phionctrl server show" says the server is ${a ? 'active' : 'not active'} here (active=${a ? 1 : 0}), but the gateway process ${running ? 'runs' : 'does not run'}`);
  const r = ha.serverCtrl?.role;
  if (r !== undefined && r !== unit.role) problems.push(`/opt/phion/run/server.ctrl names this box the server's ${r}, but the settings call ${unit.name} the ${unit.role}`);
  return problems.length ? `${unit.key}: ${problems.join('; ')}` : undefined;
}
