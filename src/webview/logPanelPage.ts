// The log panel's webview script (bundled by esbuild to dist/webview/logPanel.js). Renders lines
// in animation-frame batches, keeps at most MAX_DOM_ROWS rows in the DOM and MAX_BUFFERED_LINES in
// memory (for re-filtering), and never puts log text into innerHTML: every piece is a text node.
import type { FromWebview, PanelLine, PanelRecovery, PanelSource, ToWebview } from '../protocol/logPanelMessages';
import { MAX_BUFFERED_LINES, MAX_DOM_ROWS } from '../protocol/logPanelMessages';

declare function acquireVsCodeApi(): { postMessage(m: FromWebview): void; getState(): unknown; setState(s: unknown): void };

const vscode = acquireVsCodeApi();
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const rowsEl = $<HTMLElement>('rows');
const filterEl = $<HTMLInputElement>('filter');
const regexEl = $<HTMLInputElement>('regex');
const insertedOnlyEl = $<HTMLInputElement>('insertedOnly');
const pauseEl = $<HTMLButtonElement>('pause');
const counterEl = $<HTMLElement>('counter');
const sourcesEl = $<HTMLElement>('sources');
const recoveryEl = $<HTMLElement>('recovery');
const noticesEl = $<HTMLElement>('notices');
const emptyEl = $<HTMLElement>('empty');

let buffer: PanelLine[] = [];
let pendingRender: PanelLine[] = [];
let sources: PanelSource[] = [];
const inserted = new Set<string>();
/** Lines received that are not in the box's log format. */
let unparsed = 0;
let recovery: PanelRecovery | undefined;
let paused = false;
/** Lines that arrived while paused (the Follow button says how many). */
let newWhilePaused = 0;
/** Lines received since the panel opened (or was cleared). */
let received = 0;
let follow = true;
let matcher: ((l: PanelLine) => boolean) | undefined;
let frame = 0;
let fallback: ReturnType<typeof setTimeout> | undefined;
let stateTimer: ReturnType<typeof setTimeout> | undefined;

const saved = vscode.getState() as { filter?: string; regex?: boolean; insertedOnly?: boolean } | undefined;
if (saved) {
  filterEl.value = saved.filter ?? '';
  regexEl.checked = !!saved.regex;
  insertedOnlyEl.checked = !!saved.insertedOnly;
}
buildMatcher();

function unitOf(src: string): string {
  // The extension names every source it sends lines for; the key is shown only if one was missed.
  return sources.find((s) => s.key === src)?.unit ?? src;
}

function buildMatcher(): void {
  const text = filterEl.value;
  const onlyInserted = insertedOnlyEl.checked;
  filterEl.removeAttribute('aria-invalid');
  let test: ((s: string) => boolean) | undefined;
  if (text) {
    if (regexEl.checked) {
      try {
        const re = new RegExp(text, 'i');
        test = (s) => re.test(s);
      } catch {
        filterEl.setAttribute('aria-invalid', 'true');
        test = undefined;
      }
    } else {
      const needle = text.toLowerCase();
      test = (s) => s.toLowerCase().includes(needle);
    }
  }
  matcher = test || onlyInserted ? (l) => (!onlyInserted || l.kind === 'inserted') && (!test || test(l.text)) : undefined;
  vscode.setState({ filter: text, regex: regexEl.checked, insertedOnly: onlyInserted });
}

function makeRow(l: PanelLine): HTMLElement {
  const row = document.createElement('div');
  row.className = `row kind-${l.kind}${l.history ? ' history' : ''}${l.unparsed ? ' unparsed' : ''}`;
  if (l.unparsed) row.title = "Not in the box's log format (YYYY MM DD HH:MM:SS, offset and type, text): shown as it is; it proves nothing";
  if (l.kind === 'other' && sources.length <= 1 && !l.unparsed) {
    // The common case under load: one element, one text node.
    const text = document.createElement('span');
    text.className = 'text';
    text.textContent = l.text;
    row.appendChild(text);
    return row;
  }
  if (l.unparsed) {
    const mark = document.createElement('span');
    mark.className = 'mark unparsed-mark';
    mark.textContent = '?';
    mark.setAttribute('aria-label', "not in the box's log format");
    row.appendChild(mark);
  }
  if (l.kind === 'error') {
    const mark = document.createElement('span');
    mark.className = 'mark';
    mark.textContent = '✖';
    mark.setAttribute('aria-label', 'error');
    row.appendChild(mark);
  }
  if (sources.length > 1) {
    const src = document.createElement('span');
    src.className = 'src';
    src.textContent = unitOf(l.src);
    row.appendChild(src);
  }
  const text = document.createElement('span');
  text.className = 'text';
  // Ids become buttons (keyboard focusable); everything else stays plain text.
  const ids = l.kind === 'inserted' || l.kind === 'renamed' || l.kind === 'delivered' || l.kind === 'scanned' ? l.ids : [];
  let rest = l.text;
  for (const id of ids) {
    const at = rest.indexOf(id);
    if (at < 0 || !id) continue;
    text.appendChild(document.createTextNode(rest.slice(0, at)));
    const b = document.createElement('button');
    b.type = 'button';
    b.className = `id${l.kind === 'inserted' ? ' inserted' : ''}`;
    b.textContent = id;
    b.dataset.id = id;
    b.dataset.src = l.src;
    b.title = `Reveal mail ${id} in the Clusters view`;
    text.appendChild(b);
    rest = rest.slice(at + id.length);
  }
  text.appendChild(document.createTextNode(rest));
  row.appendChild(text);
  return row;
}

function atBottom(): boolean {
  return rowsEl.scrollHeight - rowsEl.scrollTop - rowsEl.clientHeight < 24;
}

function render(): void {
  if (frame) cancelAnimationFrame(frame);
  if (fallback) clearTimeout(fallback);
  frame = 0;
  fallback = undefined;
  if (paused) return;
  const lines = pendingRender;
  pendingRender = [];
  const shown = matcher ? lines.filter(matcher) : lines;
  const start = Math.max(0, shown.length - MAX_DOM_ROWS);
  const frag = document.createDocumentFragment();
  for (let i = start; i < shown.length; i++) frag.appendChild(makeRow(shown[i]));
  // A full screen of new rows replaces the old ones in one go; otherwise drop the oldest.
  if (shown.length - start >= MAX_DOM_ROWS) rowsEl.textContent = '';
  else {
    let excess = rowsEl.childElementCount + (shown.length - start) - MAX_DOM_ROWS;
    while (excess-- > 0 && rowsEl.firstChild) rowsEl.removeChild(rowsEl.firstChild);
  }
  rowsEl.appendChild(frag);
  if (follow) rowsEl.scrollTop = rowsEl.scrollHeight;
  emptyEl.hidden = sources.length > 0 || rowsEl.childElementCount > 0;
  reportState();
}

function scheduleRender(): void {
  if (frame || fallback || paused) return;
  frame = requestAnimationFrame(render);
  // Animation frames are throttled for a webview the browser thinks is not visible: render anyway.
  fallback = setTimeout(render, 100);
}

/** Rebuilds the rows from the buffer (filter changed, resumed, cleared). */
function rerender(): void {
  rowsEl.textContent = '';
  pendingRender = buffer.slice();
  render();
}

function updateCounter(): void {
  counterEl.textContent = `${inserted.size} inserted${unparsed ? ` · ${unparsed} not in the box's format` : ''}`;
  counterEl.title = `${inserted.size} distinct mail id(s) shown inserted in the lines of this panel (the lines read back on watching included)${unparsed ? `; ${unparsed} line(s) are not in the box's log format (marked ?): shown as they are, never read as an insertion or a delivery` : ''}`;
}

function updatePause(): void {
  pauseEl.textContent = paused ? (newWhilePaused ? `Follow (${newWhilePaused} new while paused)` : 'Follow') : 'Pause';
  pauseEl.setAttribute('aria-pressed', String(paused));
}

function renderSources(): void {
  sourcesEl.textContent = '';
  for (const s of sources) {
    const chip = document.createElement('span');
    chip.className = 'source';
    chip.textContent = `${s.cluster}/${s.unit} ${s.file}`;
    if (s.stopped) {
      chip.classList.add('stopped');
      const why = document.createElement('span');
      why.className = 'stopped-text';
      why.textContent = ` stopped — ${s.stopped}`;
      const resume = document.createElement('button');
      resume.type = 'button';
      resume.className = 'resume';
      resume.textContent = 'Resume';
      resume.setAttribute('aria-label', `Resume following ${s.unit}`);
      resume.addEventListener('click', () => vscode.postMessage({ type: 'resume', src: s.key }));
      chip.append(why, ' ', resume);
    }
    const open = document.createElement('button');
    open.type = 'button';
    open.textContent = 'Open in editor';
    open.addEventListener('click', () => vscode.postMessage({ type: 'openEditor', src: s.key }));
    const stop = document.createElement('button');
    stop.type = 'button';
    stop.textContent = 'Stop';
    stop.setAttribute('aria-label', `Stop watching ${s.unit}`);
    stop.addEventListener('click', () => vscode.postMessage({ type: 'stop', src: s.key }));
    chip.append(' ', open, ' ', stop);
    sourcesEl.appendChild(chip);
  }
  emptyEl.hidden = sources.length > 0 || rowsEl.childElementCount > 0;
}

function confirmedIds(): string[] {
  if (!recovery) return [];
  const confirmed = new Set(recovery.confirmed);
  return recovery.expected.filter((id) => confirmed.has(id) || inserted.has(id));
}

function renderRecovery(): void {
  if (!recovery || recovery.expected.length === 0) {
    recoveryEl.hidden = true;
    return;
  }
  recoveryEl.hidden = false;
  recoveryEl.textContent = '';
  const confirmed = new Set(confirmedIds());
  const head = document.createElement('div');
  head.className = 'recovery-head';
  const done = recovery.expected.filter((id) => confirmed.has(id)).length;
  head.textContent = `Recovery on ${recovery.cluster} (${recovery.phase}): ${done} of ${recovery.expected.length} expected mails confirmed in the log`;
  recoveryEl.appendChild(head);
  const list = document.createElement('div');
  list.className = 'recovery-ids';
  list.setAttribute('role', 'list');
  for (const id of recovery.expected) {
    const chip = document.createElement('span');
    const ok = confirmed.has(id);
    chip.className = `chip ${ok ? 'confirmed' : 'waiting'}`;
    chip.setAttribute('role', 'listitem');
    chip.textContent = `${ok ? '✓' : '…'} ${id}`;
    chip.setAttribute('aria-label', `${id} ${ok ? 'confirmed' : 'not yet confirmed'}`);
    list.appendChild(chip);
  }
  recoveryEl.appendChild(list);
}

function notice(text: string, severity: string, src: string): void {
  const n = document.createElement('div');
  n.className = `notice ${severity}`;
  n.textContent = `${unitOf(src)}: ${text}`;
  noticesEl.appendChild(n);
  while (noticesEl.childElementCount > 3) noticesEl.removeChild(noticesEl.firstChild as Node);
  setTimeout(() => n.remove(), severity === 'error' ? 30_000 : 10_000);
}

function reportState(): void {
  if (stateTimer) return;
  stateTimer = setTimeout(() => {
    stateTimer = undefined;
    vscode.postMessage({
      type: 'state',
      rows: rowsEl.childElementCount,
      insertedIds: [...inserted],
      highlighted: rowsEl.querySelectorAll('button.id.inserted').length,
      errors: rowsEl.querySelectorAll('.row.kind-error').length,
      unparsed,
      paused,
      newWhilePaused,
      lastText: rowsEl.lastElementChild?.querySelector('.text')?.textContent ?? undefined,
      received,
      at: Date.now(),
      recovery: recovery ? { expected: recovery.expected.length, confirmed: confirmedIds() } : undefined,
    });
  }, 300);
}

window.addEventListener('message', (e: MessageEvent<ToWebview>) => {
  const m = e.data;
  switch (m.type) {
    case 'lines': {
      let recoveryTouched = false;
      for (const l of m.lines) {
        if (l.unparsed) unparsed++;
        // Counted as shown: history lines read back on watching are highlighted, so they count too.
        if (l.kind === 'inserted')
          for (const id of l.ids) {
            inserted.add(id);
            if (recovery?.expected.includes(id)) recoveryTouched = true;
          }
      }
      received += m.lines.length;
      if (paused) {
        newWhilePaused += matcher ? m.lines.filter(matcher).length : m.lines.length;
        updatePause();
      }
      buffer.push(...m.lines);
      if (buffer.length > MAX_BUFFERED_LINES) buffer = buffer.slice(buffer.length - MAX_BUFFERED_LINES);
      pendingRender.push(...m.lines);
      if (pendingRender.length > MAX_DOM_ROWS * 2) pendingRender = pendingRender.slice(pendingRender.length - MAX_DOM_ROWS * 2);
      updateCounter();
      if (recoveryTouched) renderRecovery();
      scheduleRender();
      reportState();
      return;
    }
    case 'sources':
      sources = [...m.sources];
      renderSources();
      return;
    case 'notice':
      notice(m.text, m.severity, m.src);
      return;
    case 'recovery':
      recovery = m.recovery;
      renderRecovery();
      reportState();
      return;
    case 'revealResult':
      if (!m.found) notice(`mail ${m.id} is not in the tree (delivered?)`, 'info', '');
      return;
    case 'clear':
      clearAll();
      return;
    case 'filter':
      filterEl.value = m.text;
      regexEl.checked = m.regex;
      buildMatcher();
      rerender();
      return;
  }
});

function clearAll(): void {
  buffer = [];
  pendingRender = [];
  inserted.clear();
  unparsed = 0;
  received = 0;
  rowsEl.textContent = '';
  updateCounter();
  renderRecovery();
  reportState();
}

let filterTimer: ReturnType<typeof setTimeout> | undefined;
filterEl.addEventListener('input', () => {
  if (filterTimer) clearTimeout(filterTimer);
  filterTimer = setTimeout(() => {
    buildMatcher();
    rerender();
  }, 120);
});
regexEl.addEventListener('change', () => (buildMatcher(), rerender()));
insertedOnlyEl.addEventListener('change', () => (buildMatcher(), rerender()));
pauseEl.addEventListener('click', () => {
  paused = !paused;
  newWhilePaused = 0;
  updatePause();
  if (!paused) {
    follow = true;
    rerender();
  }
  reportState();
});
$<HTMLButtonElement>('clear').addEventListener('click', clearAll);
$<HTMLButtonElement>('watch').addEventListener('click', () => vscode.postMessage({ type: 'watch' }));
rowsEl.addEventListener('scroll', () => {
  follow = atBottom();
});
rowsEl.addEventListener('click', (e) => {
  const b = (e.target as HTMLElement).closest('button.id') as HTMLButtonElement | null;
  if (b?.dataset.id) vscode.postMessage({ type: 'reveal', src: b.dataset.src ?? '', id: b.dataset.id });
});
document.addEventListener('keydown', (e) => {
  if (e.key === '/' && document.activeElement !== filterEl) {
    e.preventDefault();
    filterEl.focus();
  } else if (e.key === 'Escape' && document.activeElement === filterEl && filterEl.value) {
    filterEl.value = '';
    buildMatcher();
    rerender();
  } else if (e.key === 'End' && document.activeElement === rowsEl) {
    follow = true;
    rowsEl.scrollTop = rowsEl.scrollHeight;
  }
});

updateCounter();
vscode.postMessage({ type: 'ready' });
