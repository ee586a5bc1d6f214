// The Queue Shape panel's webview script (bundled by esbuild to dist/webview/queueShape.js): the
// folder and sender/recipient choices, the bucket table, a bar chart of mails per age bucket, the
// stuck-mail warning, Refresh and Export. Every piece of text from a unit (domains, names) is a text
// node (textContent), never markup.
import type { FromShapeWebview, ShapeByChoice, ShapeFolderChoice, ShapeView, ToShapeWebview } from '../protocol/queueShapeMessages';

declare function acquireVsCodeApi(): { postMessage(m: FromShapeWebview): void; getState(): unknown; setState(s: unknown): void };

const vscode = acquireVsCodeApi();
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const titleEl = $<HTMLElement>('title');
const folderEl = $<HTMLSelectElement>('folder');
const bySenderEl = $<HTMLButtonElement>('bySender');
const byRecipientEl = $<HTMLButtonElement>('byRecipient');
const refreshEl = $<HTMLButtonElement>('refresh');
const exportCsvEl = $<HTMLButtonElement>('exportCsv');
const exportJsonlEl = $<HTMLButtonElement>('exportJsonl');
const statusEl = $<HTMLElement>('status');
const stuckEl = $<HTMLElement>('stuck');
const errorEl = $<HTMLElement>('error');
const chartEl = $<HTMLElement>('chart');
const tableEl = $<HTMLTableElement>('shape');
const SVG = 'http://www.w3.org/2000/svg';

let by: ShapeByChoice = 'recipient';
let folder: ShapeFolderChoice = 'all';
let shown: ShapeView | undefined;

function post(m: FromShapeWebview): void {
  vscode.postMessage(m);
}

function setBy(value: ShapeByChoice): void {
  by = value;
  bySenderEl.setAttribute('aria-pressed', String(value === 'sender'));
  byRecipientEl.setAttribute('aria-pressed', String(value === 'recipient'));
}

function refresh(): void {
  post({ type: 'refresh', folder, by });
}

folderEl.addEventListener('change', () => {
  folder = folderEl.value as ShapeFolderChoice;
  refresh();
});
bySenderEl.addEventListener('click', () => {
  if (by === 'sender') return;
  setBy('sender');
  refresh();
});
byRecipientEl.addEventListener('click', () => {
  if (by === 'recipient') return;
  setBy('recipient');
  refresh();
});
refreshEl.addEventListener('click', refresh);
exportCsvEl.addEventListener('click', () => post({ type: 'export', format: 'csv' }));
exportJsonlEl.addEventListener('click', () => post({ type: 'export', format: 'jsonl' }));

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, className?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (className) e.className = className;
  return e;
}

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

function duration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60) ? `${Math.floor((s % 3600) / 60)}m` : ''}`;
  return `${Math.floor(s / 86400)}d${Math.floor((s % 86400) / 3600) ? `${Math.floor((s % 86400) / 3600)}h` : ''}`;
}

function bucketText(label: string): string {
  return label.endsWith('+') ? `${label.slice(0, -1)} minutes or more` : `under ${label} minutes`;
}

/** Bars of the total row, one per bucket, with the count above and the bucket below. */
function drawChart(s: ShapeView): void {
  chartEl.replaceChildren();
  const counts = s.total.counts;
  const max = Math.max(1, ...counts);
  const barW = 34;
  const gap = 10;
  const top = 18;
  const height = 120;
  const width = counts.length * (barW + gap) + gap;
  const chart = svg('svg', { viewBox: `0 0 ${width} ${top + height + 34}`, width, height: top + height + 34, role: 'img', 'aria-labelledby': 'chartTitle' });
  const title = svg('title', { id: 'chartTitle' }, `Mails per age bucket: ${counts.map((c, i) => `${bucketText(s.buckets[i])}: ${c}`).join('; ')}`);
  chart.appendChild(title);
  counts.forEach((c, i) => {
    const x = gap + i * (barW + gap);
    const h = c ? Math.max(2, Math.round((c / max) * height)) : 0;
    const g = svg('g', { class: 'bucket', 'data-bucket': s.buckets[i], 'data-count': c });
    g.appendChild(svg('title', {}, `${bucketText(s.buckets[i])}: ${c} mail${c === 1 ? '' : 's'}`));
    g.appendChild(svg('rect', { class: 'track', x, y: top, width: barW, height }));
    if (h) g.appendChild(svg('rect', { class: 'bar', x, y: top + height - h, width: barW, height: h }));
    g.appendChild(svg('text', { class: 'count', x: x + barW / 2, y: top + height - h - 4, 'text-anchor': 'middle' }, String(c)));
    g.appendChild(svg('text', { class: 'label', x: x + barW / 2, y: top + height + 14, 'text-anchor': 'middle' }, s.buckets[i]));
    chart.appendChild(g);
  });
  chart.appendChild(svg('text', { class: 'axis', x: width / 2, y: top + height + 30, 'text-anchor': 'middle' }, 'age in minutes (under …)'));
  chartEl.appendChild(chart);
}

function drawTable(s: ShapeView): void {
  tableEl.replaceChildren();
  const caption = el('caption', `${s.mails} mail${s.mails === 1 ? '' : 's'} by ${s.by} domain and age in minutes${s.by === 'recipient' ? ' (a mail counts once for each recipient domain)' : ''}`);
  const head = el('thead');
  const hr = el('tr');
  for (const h of [s.by === 'sender' ? 'Sender domain' : 'Recipient domain', 'T', ...s.buckets]) {
    const th = el('th', h);
    th.scope = 'col';
    if (h !== 'T' && s.buckets.includes(h)) th.title = bucketText(h);
    hr.appendChild(th);
  }
  head.appendChild(hr);
  const body = el('tbody');
  for (const r of [s.total, ...s.rows]) {
    const tr = el('tr', undefined, r === s.total ? 'total' : undefined);
    tr.dataset.domain = r.domain;
    const th = el('th', r.domain, 'domain');
    th.scope = 'row';
    th.title = r.domain;
    tr.appendChild(th);
    for (const n of [r.total, ...r.counts]) tr.appendChild(el('td', String(n), n ? 'n' : 'n zero'));
    body.appendChild(tr);
  }
  tableEl.append(caption, head, body);
}

function show(s: ShapeView): void {
  shown = s;
  errorEl.hidden = true;
  titleEl.textContent = `Queue Shape — ${s.cluster}/${s.unit}`;
  const role = el('span', ` ${s.role} · ${s.active ? 'active' : 'standby'}`, 'role');
  titleEl.appendChild(role);
  folder = s.folder;
  folderEl.value = s.folder;
  setBy(s.by);
  vscode.setState({ folder, by });
  const notes: string[] = [`looked at ${new Date(s.at).toLocaleTimeString()}`];
  if (s.missing.length) notes.push(`${s.missing.join(', ')} missing on the unit`);
  if (s.unread) notes.push(`${s.unread} envelope${s.unread === 1 ? '' : 's'} not read`);
  statusEl.textContent = notes.join(' · ');
  if (s.stuck.length) {
    stuckEl.replaceChildren();
    stuckEl.appendChild(el('strong', 'Stuck mail: '));
    stuckEl.appendChild(document.createTextNode(s.stuck.map((x) => `${x.count} mail${x.count === 1 ? '' : 's'} older than ${s.stuckAfterMinutes} min in ${x.folder}/ (oldest ${duration(x.oldestAgeS)})`).join('; ') + ` of the active unit: the gateway is not delivering ${s.stuck.reduce((n, x) => n + x.count, 0) === 1 ? 'it' : 'them'}.`));
    stuckEl.hidden = false;
  } else stuckEl.hidden = true;
  drawChart(s);
  drawTable(s);
  exportCsvEl.disabled = exportJsonlEl.disabled = false;
  document.body.dataset.state = 'shown';
}

window.addEventListener('message', (event: MessageEvent<ToShapeWebview>) => {
  const m = event.data;
  switch (m.type) {
    case 'loading':
      folder = m.folder;
      folderEl.value = m.folder;
      setBy(m.by);
      document.body.dataset.state = 'loading';
      statusEl.textContent = m.total ? `reading envelopes: ${m.done ?? 0} of ${m.total}…` : 'looking at the unit…';
      return;
    case 'shape':
      show(m.shape);
      return;
    case 'error':
      document.body.dataset.state = 'error';
      errorEl.textContent = m.text;
      errorEl.hidden = false;
      statusEl.textContent = shown ? 'showing the last look' : '';
      return;
  }
});

const saved = vscode.getState() as { folder?: ShapeFolderChoice; by?: ShapeByChoice } | undefined;
if (saved?.by) setBy(saved.by);
exportCsvEl.disabled = exportJsonlEl.disabled = true;
post({ type: 'ready' });
