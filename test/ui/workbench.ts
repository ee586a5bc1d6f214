// Drives the real workbench in Chromium for UI checks: open, click, read the DOM, take screenshots.
import * as fs from 'fs';
import * as path from 'path';
import type { Browser, Locator, Page } from 'playwright-core';
import { CodeServer, CodeServerOptions, launchBrowser, REPO, startCodeServer } from '../host/codeServer';
import { HOST_LAB_DIR, hostLabAddresses } from '../host/hostLab';

/** A lab of its own for one UI test file (beside the host suites' lab, same addresses: they run one after the other). */
export function uiLabOptions(name: string): { stateDir: string; addresses: [string, string] } {
  return { stateDir: `${HOST_LAB_DIR}-ui-${name}`, addresses: hostLabAddresses() };
}

export const SCREENSHOT_DIR = path.join(REPO, '.test-output', 'screenshots');
export const VSIX = path.join(REPO, 'mailgw-ha.vsix');

/** Workbenches open now: a failing check describes what they show (see hooks.ts). */
export const openWorkbenches = new Set<Workbench>();

export interface Workbench {
  readonly server: CodeServer;
  readonly browser: Browser;
  readonly page: Page;
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/** code-server with the packaged extension installed, opened in Chromium at 1400x900. */
export async function openWorkbench(opts: CodeServerOptions): Promise<Workbench> {
  if (!fs.existsSync(VSIX)) throw new Error(`${VSIX} is missing: run \`npm run package\` first`);
  const server = await startCodeServer({ vsix: [VSIX], ...opts });
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    // A cold workbench load takes ~9 s idle, far longer on a loaded 2-core machine.
    await page.goto(`${server.url}/?folder=${encodeURIComponent(opts.workspace)}`, { timeout: 180_000 });
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    const wb: Workbench = {
      server,
      browser,
      page,
      async screenshot(name) {
        fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
        const file = path.join(SCREENSHOT_DIR, `${name}.png`);
        await page.screenshot({ path: file });
        return file;
      },
      async close() {
        openWorkbenches.delete(wb);
        await browser.close().catch(() => undefined);
        await server.stop();
      },
    };
    openWorkbenches.add(wb);
    return wb;
  } catch (err) {
    await browser.close().catch(() => undefined);
    await server.stop();
    throw err;
  }
}

/** Clicks the extension's activity-bar icon and waits for its Clusters view. */
export async function openClustersView(page: Page): Promise<void> {
  const icon = page.locator('.activitybar .action-item a[aria-label^="Mail Gateway HA"], .activitybar .action-item[aria-label^="Mail Gateway HA"]').first();
  await icon.waitFor({ timeout: 60_000 });
  await icon.click();
  // With one view in the container VS Code hides its pane header; the side bar title names the container.
  await page.locator('.part.sidebar .composite.title').filter({ hasText: /Mail Gateway HA/i }).first().waitFor({ timeout: 30_000 });
}

/**
 * Opens the command palette and leaves its input holding ">title", with a matching row listed (the
 * caller presses Enter or picks). A quick input still closing from the previous command swallows F1
 * (seen on a loaded machine: the palette never showed), so this waits until none is shown, and
 * presses F1 again if the palette's input does not become visible.
 */
export async function openCommand(page: Page, title: string): Promise<void> {
  const widget = page.locator('.quick-input-widget');
  const input = widget.locator('input.input');
  if (!(await widget.isHidden())) {
    await widget.waitFor({ state: 'hidden', timeout: 5_000 }).catch(async () => {
      await page.keyboard.press('Escape');
      await widget.waitFor({ state: 'hidden', timeout: 10_000 });
    });
  }
  const deadline = Date.now() + 30_000;
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press('F1');
    const shown = await input.waitFor({ state: 'visible', timeout: 5_000 }).then(
      () => true,
      () => false,
    );
    if (shown) break;
    if (Date.now() > deadline) throw new Error(`the command palette did not open after ${attempt} F1 presses (for "${title}")`);
  }
  await input.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row').filter({ hasText: title.replace(/^.*: /, '') }).first().waitFor({ timeout: 30_000 });
}

/** Runs a command by its title from the command palette. */
export async function runCommand(page: Page, title: string): Promise<void> {
  await openCommand(page, title);
  await page.keyboard.press('Enter');
}

/**
 * Right-clicks `target` and runs `item` from its context menu. VS Code arms a menu item's mouse-up
 * handler only 100 ms after the menu is drawn (so the right-click's own release cannot pick an item);
 * on a loaded machine that timer fires late, and a click that comes first is dropped with the menu
 * left open (seen in CI: the command never ran, nothing was shown). So the item is clicked again while
 * the menu stays open; the click the menu takes closes it, so the command runs once.
 */
export async function runFromContextMenu(page: Page, target: Locator, item: string): Promise<void> {
  await target.click({ button: 'right' });
  const entry = page.locator('.context-view .action-label').filter({ hasText: item }).first();
  await entry.waitFor({ timeout: 30_000 });
  const deadline = Date.now() + 30_000;
  for (let clicks = 1; ; clicks++) {
    await entry.click({ timeout: 10_000 });
    const closed = await entry.waitFor({ state: 'hidden', timeout: 2_000 }).then(
      () => true,
      () => false,
    );
    if (closed) {
      if (clicks > 1) console.log(`      (the context menu took the click on "${item}" only at click ${clicks})`);
      return;
    }
    if (Date.now() > deadline) throw new Error(`the context menu stayed open after ${clicks} clicks on "${item}"`);
  }
}

/**
 * What the workbench shows that a check waits on: an open quick input, an open context menu, the
 * notifications, progress bars, activity-bar badges, the focused element. Printed when a check fails, since CI keeps only the output.
 */
export async function describeWorkbench(page: Page): Promise<string> {
  // A string, not a function: tsx would wrap the inner helpers in a __name() the page does not have.
  return page.evaluate<string>(DESCRIBE_WORKBENCH);
}

const DESCRIBE_WORKBENCH = `(() => {
  const shown = (e) => e.offsetParent !== null;
  const text = (e) => ((e && e.textContent) || '').replace(/\\s+/g, ' ').trim().slice(0, 200);
  const lines = [];
  const qi = document.querySelector('.quick-input-widget');
  const input = qi && qi.querySelector('input.input');
  lines.push(qi && shown(qi)
    ? 'quick input: "' + text(qi.querySelector('.quick-input-title')) + '" placeholder "' + (input ? input.placeholder : '') + '" value "' + (input ? input.value : '') + '", rows: ' + Array.from(qi.querySelectorAll('.monaco-list-row')).map(text).slice(0, 8).join(' | ')
    : 'quick input: none shown');
  const menus = Array.from(document.querySelectorAll('.context-view .monaco-menu')).filter(shown);
  lines.push(menus.length ? 'context menu: ' + Array.from(menus[0].querySelectorAll('.action-label')).map(text).filter(Boolean).join(' | ') : 'context menu: none shown');
  const toasts = Array.from(document.querySelectorAll('.notifications-toasts .notification-toast')).filter(shown).map(text);
  lines.push('notifications: ' + (toasts.length ? toasts.join(' || ') : 'none'));
  const progress = Array.from(document.querySelectorAll('.monaco-progress-container.active')).filter(shown).map((p) => {
    const pane = p.closest('.pane, .composite, .part');
    return text(pane && pane.querySelector('.pane-header .title, .title-label, h2')) || (pane ? pane.className : '?');
  });
  lines.push('progress: ' + (progress.length ? progress.join(' | ') : 'none'));
  const badges = Array.from(document.querySelectorAll('.activitybar .action-item')).map((item) => {
    const b = item.querySelector('.badge-content');
    if (!b || !shown(b)) return null;
    const name = item.getAttribute('aria-label') || (item.querySelector('a') ? item.querySelector('a').getAttribute('aria-label') : '') || '?';
    return name.slice(0, 60) + ': "' + text(b) + '" ' + b.className;
  }).filter(Boolean);
  lines.push('activity-bar badges: ' + (badges.length ? badges.join(' | ') : 'none'));
  const a = document.activeElement;
  lines.push('focus: ' + (a ? a.tagName.toLowerCase() + (a.className ? '.' + String(a.className).trim().split(/\\s+/).join('.') : '') + ' "' + (a.getAttribute('aria-label') || '').slice(0, 100) + '"' : 'none'));
  return lines.join('\\n');
})()`;

/** WCAG contrast ratio of a CSS colour (rgb()/rgba(), alpha blended) over an opaque background. */
export function contrastRatio(fg: string, bg: string): number {
  const parse = (c: string) => {
    const m = /rgba?\(([^)]+)\)/.exec(c);
    if (!m) throw new Error(`not an rgb() colour: ${c}`);
    const [r, g, b, a = 1] = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
    return { r, g, b, a };
  };
  const B = parse(bg);
  const F = parse(fg);
  const blend = (f: number, b: number) => f * F.a + b * (1 - F.a);
  const lum = (r: number, g: number, b: number) => {
    const lin = (v: number) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  };
  const l1 = lum(blend(F.r, B.r), blend(F.g, B.g), blend(F.b, B.b));
  const l2 = lum(B.r, B.g, B.b);
  return (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
}
