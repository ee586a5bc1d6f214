// @ts-check
// Mocha reporter for scripts/profiles.ts: mocha's spec output as usual, plus a JSON file
// ($MAILGW_SUMMARY_FILE) listing each passed, failed and pending test with its file, and each failure's
// message, so a run over several lab profiles can print one summary.
'use strict';
const fs = require('fs');
const path = require('path');
const Mocha = require('mocha');

const { EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_TEST_PENDING, EVENT_RUN_END } = Mocha.Runner.constants;

class SummaryReporter extends Mocha.reporters.Spec {
  /** @param {Mocha.Runner} runner @param {Mocha.MochaOptions} options */
  constructor(runner, options) {
    super(runner, options);
    const started = Date.now();
    /** @type {{ passed: object[], failed: object[], pending: object[], ms?: number }} */
    const results = { passed: [], failed: [], pending: [] };
    /** @param {Mocha.Runnable} t */
    const row = (t) => ({ title: t.fullTitle(), file: t.file ? path.relative(process.cwd(), t.file) : undefined, ms: t.duration });
    runner.on(EVENT_TEST_PASS, (t) => results.passed.push(row(t)));
    runner.on(EVENT_TEST_FAIL, (t, err) => results.failed.push({ ...row(t), error: err instanceof Error ? err.message : String(err) }));
    runner.on(EVENT_TEST_PENDING, (t) => results.pending.push(row(t)));
    runner.once(EVENT_RUN_END, () => {
      const out = process.env.MAILGW_SUMMARY_FILE;
      if (!out) return;
      results.ms = Date.now() - started;
      fs.mkdirSync(path.dirname(out), { recursive: true });
      fs.writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
    });
  }
}

module.exports = SummaryReporter;
