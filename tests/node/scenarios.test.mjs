// The shared scenario table (tests/scenarios/refresher.json) against the npm package's JS
// refresher; tests/scenarios.rs runs the same table against the Rust Refresher that the
// crate's `web` feature wraps. One engine, two faces, one table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRefresher } from '../../js/index.js';

const table = JSON.parse(readFileSync(new URL('../scenarios/refresher.json', import.meta.url), 'utf8'));
const EVENTS = ['refresh', 'refresh-error', 'session-expired', 'logout'];

const tokenSet = (t) => ({ accessToken: t.accessToken, expiresIn: t.expiresIn });

for (const scenario of table.scenarios) {
  test(`scenario: ${scenario.name}`, { timeout: 10_000 }, async () => {
    let calls = 0;
    let next;
    const r = await createRefresher({
      refresh: async () => {
        calls++;
        const answer = next;
        await new Promise((resolve) => setTimeout(resolve, 5)); // in flight while the others call
        if (answer === 'transient') throw new Error('503');
        if (answer === 'rejected') throw Object.assign(new Error('401'), { sessionExpired: true });
        return tokenSet(answer.ok);
      },
    });
    const events = [];
    for (const name of EVENTS) r.on(name, () => events.push(name));
    try {
      for (const [i, step] of scenario.steps.entries()) {
        const at = `step ${i}`;
        if (step.setTokens) r.setTokens(tokenSet(step.setTokens));
        else if (step.refresh) {
          next = step.refresh.answer;
          await Promise.allSettled(Array.from({ length: step.refresh.concurrent }, () => r.refresh()));
        } else if (step.logout) r.logout();
        else if (step.expect) {
          const x = step.expect;
          assert.equal(r.state, x.state, `${at}: state`);
          assert.equal(calls, x.calls, `${at}: refresh calls`);
          assert.deepEqual(events, x.events, `${at}: events`);
          assert.equal(r.accessToken, x.token, `${at}: token`);
          if (x.refreshLead !== undefined) {
            assert.ok(Math.abs(r.expiresAt - r.nextRefreshAt - x.refreshLead) <= 1, `${at}: expiresAt - nextRefreshAt = ${r.expiresAt - r.nextRefreshAt}`);
          }
        } else assert.fail(`${at}: unknown step ${JSON.stringify(step)}`);
      }
    } finally {
      r.dispose();
    }
  });
}
