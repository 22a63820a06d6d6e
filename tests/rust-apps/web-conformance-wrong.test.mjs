// The negative control of the Rust web face's conformance runner (the `web` feature in
// examples/conformance, built by scripts/rust-apps.sh): played on a table holding a few
// scenarios as they are and the same ones changed to expect a wrong answer
// (tests/support/wrong-table.mjs: a wrong token, one refresh call too many across two tabs, a
// refusal message no face gives), the runner passes the first and fails the second. So a
// scenario that passes there passes because the face did what it says, not because the
// runner compared nothing.
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { assertRunnerTellsWrongFromRight } from '../support/wrong-table.mjs';

test('conformance (web): a scenario changed to expect a wrong answer fails, the same scenario as written passes', { timeout: 180_000 }, () => {
  assertRunnerTellsWrongFromRight('web', fileURLToPath(new URL('./web-conformance.test.mjs', import.meta.url)));
});
