// Add Cluster… as one multi-step input: a step counter, Back on every step, a file picker for key
// files, the second unit prefilled from the first (user, port, key), a review, and Test Connection
// on both units before anything is written to the workspace settings.
import * as os from 'os';
import * as vscode from 'vscode';
import { parseSettings } from '../core/config';
import { findGateway } from '../core/gateway';
import { isValidServicePart } from '../core/names';
import { messageText } from '../core/text/message';
import * as safeWindow from '../safeWindow';
import type { Services } from '../services';
import { addClusterToWorkspace, clusterNamesWritten } from '../settings';

interface UnitDraft {
  name: string;
  host: string;
  port: string;
  username: string;
  identityFile: string;
}

interface Draft {
  name: string;
  server: string;
  service: string;
  units: [UnitDraft, UnitDraft];
}

type Validate = (v: string) => string | undefined;

const required = (what: string): Validate => (v) => (v.trim() ? undefined : `${what} is required`);
const servicePart = (what: string): Validate => (v) => (isValidServicePart(v.trim()) ? undefined : `${what}: letters, digits and "-" only, exactly as on the box (case sensitive)`);
const portCheck: Validate = (v) => (v.trim() === '' || (/^\d+$/.test(v.trim()) && +v >= 1 && +v <= 65535) ? undefined : 'a port from 1 to 65535, or empty for 22 (or the alias\'s port)');
const keyCheck: Validate = (v) => (v.trim() === '' || v.trim().startsWith('/') || v.trim().startsWith('~/') ? undefined : 'an absolute path (or ~/…), or empty for ssh-agent / password');

const BACK = 'back' as const;
const TITLE = 'Add Mail Gateway Cluster';
const BROWSE: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('folder-opened'), tooltip: 'Choose a key file…' };

interface Step {
  prompt: string;
  placeHolder: string;
  get: (d: Draft) => string;
  set: (d: Draft, v: string) => void;
  validate: Validate;
  browse?: boolean;
}

function unitSteps(i: 0 | 1): Step[] {
  const role = i === 0 ? 'primary' : 'secondary';
  const u = (d: Draft) => d.units[i];
  return [
    { prompt: `Name of the ${role} unit (shown in the tree)`, placeHolder: i === 0 ? 'fw-a' : 'fw-b', get: (d) => u(d).name, set: (d, v) => (u(d).name = v), validate: required('A unit name') },
    { prompt: `SSH host of the ${role} unit: address, DNS name or ~/.ssh/config alias`, placeHolder: i === 0 ? '192.0.2.10' : '192.0.2.11', get: (d) => u(d).host, set: (d, v) => (u(d).host = v), validate: required('A host') },
    { prompt: `SSH port of the ${role} unit (empty: 22, or the alias's port)`, placeHolder: '22', get: (d) => u(d).port, set: (d, v) => (u(d).port = v), validate: portCheck },
    { prompt: `SSH user on the ${role} unit (empty: root, or the alias's user)`, placeHolder: 'root', get: (d) => u(d).username, set: (d, v) => (u(d).username = v), validate: () => undefined },
    {
      prompt: `Private key file for the ${role} unit — the folder button picks one (empty: ssh-agent, or a password asked when connecting)`,
      placeHolder: '~/.ssh/id_ed25519',
      get: (d) => u(d).identityFile,
      set: (d, v) => (u(d).identityFile = v),
      validate: keyCheck,
      browse: true,
    },
  ];
}

const STEPS: Step[] = [
  {
    prompt: 'Cluster name shown in the tree',
    placeHolder: 'hq-mail',
    get: (d) => d.name,
    set: (d, v) => (d.name = v),
    validate: (v) => required('A name')(v) ?? (clusterNamesWritten().includes(v.trim()) ? `a cluster named "${v.trim()}" exists already` : undefined),
  },
  { prompt: 'Server name as on the box (case sensitive)', placeHolder: 'box1', get: (d) => d.server, set: (d, v) => (d.server = v), validate: servicePart('Server') },
  { prompt: 'Mail gateway service name (case sensitive): the gateway is <server>_<service>', placeHolder: 'mailgw', get: (d) => d.service, set: (d, v) => (d.service = v), validate: servicePart('Service') },
  ...unitSteps(0),
  ...unitSteps(1),
];
/** The steps plus the review. */
const TOTAL = STEPS.length + 1;

/** One input box step; resolves to the value, BACK, or undefined (cancelled). */
function inputStep(step: Step, index: number, draft: Draft): Promise<string | typeof BACK | undefined> {
  return new Promise((resolve) => {
    const box = vscode.window.createInputBox();
    box.title = TITLE;
    box.step = index + 1;
    box.totalSteps = TOTAL;
    box.prompt = step.prompt;
    box.placeholder = step.placeHolder;
    box.value = step.get(draft);
    box.ignoreFocusOut = true;
    box.buttons = [...(index > 0 ? [vscode.QuickInputButtons.Back] : []), ...(step.browse ? [BROWSE] : [])];
    let done = false;
    const finish = (v: string | typeof BACK | undefined) => {
      if (done) return;
      done = true;
      resolve(v);
      box.dispose();
    };
    box.onDidChangeValue((v) => (box.validationMessage = step.validate(v)));
    box.onDidAccept(() => {
      const err = step.validate(box.value);
      box.validationMessage = err;
      if (!err) finish(box.value.trim());
    });
    box.onDidTriggerButton(async (b) => {
      if (b === vscode.QuickInputButtons.Back) return finish(BACK);
      if (b === BROWSE) {
        const picked = await vscode.window.showOpenDialog({ title: 'Private key file', canSelectMany: false, openLabel: 'Use This Key', defaultUri: vscode.Uri.file(`${os.homedir()}/.ssh`) });
        if (picked?.[0]) box.value = picked[0].fsPath;
        box.show();
      }
    });
    box.onDidHide(() => finish(undefined));
    box.show();
  });
}

type ReviewChoice = 'test' | 'save' | typeof BACK | undefined;

function review(draft: Draft, note?: string): Promise<ReviewChoice> {
  return new Promise((resolve) => {
    const pick = vscode.window.createQuickPick<vscode.QuickPickItem & { choice?: ReviewChoice }>();
    pick.title = TITLE;
    pick.step = TOTAL;
    pick.totalSteps = TOTAL;
    pick.placeholder = note ?? 'Review the cluster; Test Connection checks both units before the settings are written';
    pick.ignoreFocusOut = true;
    pick.buttons = [vscode.QuickInputButtons.Back];
    const unitLine = (u: UnitDraft, role: string) => ({
      label: `$(vm) ${u.name} (${role})`,
      description: `${u.username || 'root'}@${u.host}${u.port ? `:${u.port}` : ''}`,
      detail: u.identityFile ? `key ${u.identityFile}` : 'ssh-agent or password',
    });
    pick.items = [
      { label: '$(plug) Test Connection and Save', detail: 'Connects to both units (host key, login, gateway), then writes the workspace settings', choice: 'test' },
      { label: '$(save) Save Without Testing', detail: 'Writes the workspace settings now', choice: 'save' },
      { label: 'Cluster', kind: vscode.QuickPickItemKind.Separator },
      { label: `$(server-environment) ${draft.name}`, description: `gateway ${draft.server}_${draft.service}` },
      unitLine(draft.units[0], 'primary'),
      unitLine(draft.units[1], 'secondary'),
    ];
    let done = false;
    const finish = (v: ReviewChoice) => {
      if (done) return;
      done = true;
      resolve(v);
      pick.dispose();
    };
    pick.onDidTriggerButton(() => finish(BACK));
    pick.onDidAccept(() => {
      const c = pick.selectedItems[0]?.choice;
      if (c) finish(c);
    });
    pick.onDidHide(() => finish(undefined));
    pick.show();
  });
}

function toSetting(d: Draft): Record<string, unknown> {
  return {
    name: d.name,
    server: d.server,
    service: d.service,
    units: d.units.map((u, i) => ({
      name: u.name,
      role: i === 0 ? 'primary' : 'secondary',
      host: u.host,
      ...(u.port ? { port: Number(u.port) } : {}),
      ...(u.username ? { username: u.username } : {}),
      ...(u.identityFile ? { identityFile: u.identityFile } : {}),
    })),
  };
}

/** Connects to both units of the draft (prompts as a real connection would); the error, if any. */
async function testDraft(services: Services, setting: Record<string, unknown>): Promise<string | undefined> {
  const parsed = parseSettings([setting], services.settings.knownHostsFile, os.homedir());
  if (parsed.errors.length) return parsed.errors.map((e) => e.message).join('; ');
  const cluster = parsed.clusters[0];
  const probes = cluster.units.map((u) => services.pool.probe(u));
  try {
    const found = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Testing ${messageText(cluster.name)}…` }, () =>
      Promise.all(probes.map(async (conn) => {
        await conn.connect(true);
        return (await findGateway(conn, cluster)).pids.length > 0;
      })),
    );
    services.logger.info(`${cluster.name}: test before saving OK (gateway on ${cluster.units.filter((_, i) => found[i]).map((u) => u.name).join(', ') || 'neither unit'})`);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  } finally {
    // Connections of a cluster that is not (yet) in the settings are not kept.
    for (const p of probes) p.close();
  }
}

export async function addCluster(services: Services): Promise<boolean> {
  if (!vscode.workspace.isTrusted) {
    void safeWindow.showWarningMessage('Mail Gateway HA: trust this workspace before adding clusters to it.');
    return false;
  }
  if (!vscode.workspace.workspaceFolders?.length) {
    void safeWindow.showErrorMessage('Mail Gateway HA: open a folder first; clusters are kept in its workspace settings.');
    return false;
  }
  const blank = (): UnitDraft => ({ name: '', host: '', port: '', username: '', identityFile: '' });
  const draft: Draft = { name: '', server: '', service: '', units: [blank(), blank()] };
  const secondaryStart = 3 + 5;
  let i = 0;
  let note: string | undefined;
  for (;;) {
    if (i < STEPS.length) {
      // Entering the second unit: what the first one uses is the likely answer.
      if (i === secondaryStart) {
        const [a, b] = draft.units;
        if (!b.port) b.port = a.port;
        if (!b.username) b.username = a.username;
        if (!b.identityFile) b.identityFile = a.identityFile;
      }
      const v = await inputStep(STEPS[i], i, draft);
      if (v === undefined) return false;
      if (v === BACK) {
        i = Math.max(0, i - 1);
        continue;
      }
      STEPS[i].set(draft, v);
      i++;
      continue;
    }
    const choice = await review(draft, note);
    if (choice === undefined) return false;
    if (choice === BACK) {
      i = STEPS.length - 1;
      continue;
    }
    const setting = toSetting(draft);
    if (choice === 'test') {
      const error = await testDraft(services, setting);
      if (error) {
        note = `Test failed — nothing saved: ${messageText(error, { max: 200 })}. Back to change, or Save Without Testing.`;
        continue;
      }
    }
    await addClusterToWorkspace(setting);
    void safeWindow.showInformationMessage(`Mail Gateway HA: cluster "${draft.name}" ${choice === 'test' ? 'tested and ' : ''}added to the workspace settings.`);
    return true;
  }
}
