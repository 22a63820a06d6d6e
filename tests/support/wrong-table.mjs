// A negative control for the conformance runners: a table of a few scenarios of
// tests/scenarios/engine.json as they are, and the same scenarios changed to expect a wrong
// answer (a wrong token, one refresh call too many across two tabs, a refusal message no face
// gives). A runner played on it (CONFORMANCE_TABLE) must pass the first and fail the second:
// proof that it compares what it claims to compare. Used by the npm and web faces' runners'
// negative tests; tests/engine_conformance.rs makes the same changes in Rust.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const TABLE = JSON.parse(readFileSync(new URL('../scenarios/engine.json', import.meta.url), 'utf8'));
export const WRONG = ' [changed to expect a wrong answer]';

const expects = (sc) => (sc.steps ?? []).filter((s) => s.expect).map((s) => s.expect);
const crossTab = (sc) => sc.options?.crossTab === true;

/** The scenarios changed, each with how: [the scenario, its change]. */
function picks() {
  const single = TABLE.scenarios.find((sc) => !crossTab(sc) && !sc.needs && expects(sc).some((e) => typeof e.token === 'string'));
  const multi = TABLE.scenarios.find((sc) => crossTab(sc) && expects(sc).some((e) => typeof e.refreshCalls === 'number'));
  const refused = TABLE.scenarios.find((sc) => typeof sc.optionsRefused === 'string');
  return [
    [single, (sc) => { expects(sc).findLast((e) => typeof e.token === 'string').token += '-wrong'; }],
    [multi, (sc) => { expects(sc).find((e) => typeof e.refreshCalls === 'number').refreshCalls += 1; }],
    [refused, (sc) => { sc.optionsRefused = 'a message no face gives'; }],
  ];
}

/**
 * Writes the table to a temporary file; returns { path, right: [names that must pass],
 * wrong: [names that must fail] }.
 */
export function writeWrongTable() {
  const right = [];
  const wrong = [];
  const scenarios = [];
  for (const [sc, change] of picks()) {
    const changed = structuredClone(sc);
    change(changed);
    changed.name = sc.name + WRONG;
    scenarios.push(sc, changed);
    right.push(sc.name);
    wrong.push(changed.name);
  }
  // Only the rows these scenarios cover: a runner checks that every row of its table is covered.
  const rows = new Set(scenarios.flatMap((sc) => sc.rows));
  const table = { ...TABLE, table: Object.fromEntries(Object.entries(TABLE.table).filter(([row]) => rows.has(row))), scenarios };
  const path = join(mkdtempSync(join(tmpdir(), 'wrong-table-')), 'engine.json');
  writeFileSync(path, JSON.stringify(table));
  return { path, right, wrong };
}

/**
 * What a `node --test` run said of each test, from its TAP output: name -> 'ok' | 'not ok'
 * (top-level tests and subtests alike; a skipped one is left out).
 */
export function outcomes(tap) {
  const out = new Map();
  for (const m of tap.matchAll(/^\s*(ok|not ok) \d+ - (.*?)(\s+# (SKIP|TODO).*)?$/gm)) {
    if (!m[3]) out.set(m[2], m[1]);
  }
  return out;
}

/**
 * Plays the runner `file` (a `node --test` file of a conformance runner, whose tests are named
 * `conformance (<label>): <scenario>`) on the wrong table: each scenario as written must pass,
 * each changed one fail, and the run must exit with a failure.
 */
export function assertRunnerTellsWrongFromRight(label, file) {
  const { path, right, wrong } = writeWrongTable();
  // Without NODE_TEST_CONTEXT (set by the runner this test runs under): the child reports in TAP.
  const { NODE_TEST_CONTEXT, ...env } = process.env;
  const run = spawnSync(process.execPath, ['--test', '--test-reporter=tap', '--test-concurrency=1', file], {
    env: { ...env, CONFORMANCE_TABLE: path }, encoding: 'utf8', timeout: 170_000,
  });
  const said = outcomes(run.stdout);
  const of = (name) => said.get(`conformance (${label}): ${name}`);
  assert.deepEqual(right.map(of), right.map(() => 'ok'), run.stdout.slice(-3000));
  assert.deepEqual(wrong.map(of), wrong.map(() => 'not ok'));
  assert.equal(run.status, 1, 'the runner exits with a failure');
}
