// Root hooks of the UI checks: a failing check prints the state of the lab it ran against, so a CI
// failure can be understood from its output alone (screenshots land in .test-output/screenshots).
import * as fs from 'fs';
import * as path from 'path';
import { HOST_LAB_DIR } from '../host/hostLab';
import { Lab } from '../lab/lab';
import { describeWorkbench, openWorkbenches, SCREENSHOT_DIR } from './workbench';

export const mochaHooks: Mocha.RootHookObject = {
  async afterEach(this: Mocha.Context) {
    const t = this.currentTest;
    if (t?.state !== 'failed') return;
    let n = 0;
    for (const wb of openWorkbenches) {
      const shot = `failure-${t.title.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 60)}-${++n}`;
      const seen = await describeWorkbench(wb.page).catch((err: Error) => `cannot read the workbench: ${err.message.split('\n')[0]}`);
      const file = await wb.screenshot(shot).catch(() => undefined);
      console.log(`\n  -- the workbench after the failure${file ? ` (screenshot ${path.relative(path.dirname(SCREENSHOT_DIR), file)})` : ''} --\n${seen.replace(/^/gm, '    ')}`);
    }
    console.log(`\n  -- lab state after the failure of "${t.fullTitle()}" (group: ui) --`);
    const parent = path.dirname(HOST_LAB_DIR);
    const prefix = `${path.basename(HOST_LAB_DIR)}-ui-`;
    const dirs = fs.existsSync(parent) ? fs.readdirSync(parent).filter((d) => d.startsWith(prefix)) : [];
    for (const d of dirs) {
      const dir = path.join(parent, d);
      if (!fs.existsSync(path.join(dir, 'state.json'))) continue;
      try {
        console.log(Lab.attach(dir).diagnostics().replace(/^/gm, '  '));
      } catch (err) {
        console.log(`  lab ${dir}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  },
};
