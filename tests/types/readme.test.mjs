// The README's recipes are code the tests run or type-check: every fenced block after a
// `<!-- checked: <path> -->` comment appears verbatim in that file, which is either run by a
// packaging test (tests/packaging/...), type-checked by tsc (tests/types/recipes/..., in
// tsconfig.json's include), or a Rust example app built and driven by scripts/rust-apps.sh and
// tests/rust-apps/ (examples/leptos, examples/yew: its code, or its Cargo.toml's dependencies).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = join(HERE, '..', '..');
const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/<!-- checked: (\S+) -->\n```\w*\n([\s\S]*?)\n```/g)].map((m) => ({ file: m[1], code: m[2] }));

test('the README has a checked block for each recipe (quick start, React/Next, Vue/Nuxt, plain, node, worker)', () => {
  assert.ok(blocks.length >= 8, `found ${blocks.length}`);
  const config = JSON.parse(readFileSync(join(HERE, 'tsconfig.json'), 'utf8'));
  for (const { file } of blocks) {
    if (file.startsWith('tests/types/recipes/')) assert.ok(config.include.includes(`recipes/*${file.slice(file.lastIndexOf('.'))}`), `${file} is type-checked`);
    else assert.match(file, /^(tests\/packaging\/[^/]+\/|examples\/(leptos|yew)\/(src\/|Cargo\.toml$))/, `${file} is a packaging test app or a Rust example app's code or manifest (scripts/rust-apps.sh)`);
  }
});

for (const { file, code } of blocks) {
  test(`README block is verbatim in ${file}`, () => {
    const src = readFileSync(join(REPO, file), 'utf8');
    assert.ok(src.includes(code), `the README's block differs from ${file}:\n${code}`);
  });
}
