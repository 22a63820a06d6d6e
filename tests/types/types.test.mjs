// The TypeScript declarations: a typed app using every entry type-checks, each misuse it
// marks with @ts-expect-error is refused (each one alone makes tsc fail), `exports` lists
// types first, and every entry declares exactly what its module exports at run time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = join(HERE, '..', '..');
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
const ENTRIES = Object.entries(pkg.exports).filter(([, v]) => typeof v === 'object');
const TSC = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');

/** Runs tsc on a project; returns { ok, out } (out: the diagnostics text). */
function tsc(project) {
  try {
    return { ok: true, out: execFileSync(process.execPath, [TSC, '-p', project, '--pretty', 'false'], { encoding: 'utf8' }) };
  } catch (e) {
    return { ok: false, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

test('tsc --noEmit passes on the typed usage file (every entry, React and Vue, axios and pubnub)', { timeout: 120_000 }, () => {
  const { ok, out } = tsc(join(HERE, 'tsconfig.json'));
  assert.ok(ok, `tsc reported:\n${out}`);
  assert.equal(out.trim(), '');
});

test('each misuse marked @ts-expect-error is a type error on its own line', { timeout: 120_000 }, () => {
  const src = readFileSync(join(HERE, 'usage.tsx'), 'utf8').split('\n');
  const marks = src.flatMap((l, i) => (l.trim().startsWith('// @ts-expect-error') ? [i] : []));
  assert.ok(marks.length >= 10, `expected at least 10 misuse lines, found ${marks.length}`);
  // Without the directives tsc must fail on exactly the lines after them (1-based: mark + 2).
  const stripped = src.map((l, i) => (marks.includes(i) ? '' : l)).join('\n');
  const dir = mkdtempSync(join(HERE, '.misuse-'));  // inside the package, so 'freshtoken' resolves to itself
  try {
    writeFileSync(join(dir, 'usage.tsx'), stripped);
    const config = JSON.parse(readFileSync(join(HERE, 'tsconfig.json'), 'utf8'));
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(config));
    const { ok, out } = tsc(join(dir, 'tsconfig.json'));
    assert.equal(ok, false, 'tsc accepted every misuse');
    const lines = new Set([...out.matchAll(/usage\.tsx\((\d+),\d+\): error TS\d+/g)].map((m) => Number(m[1])));
    const expected = marks.map((i) => i + 2);
    for (const line of expected) assert.ok(lines.has(line), `line ${line} (${src[line - 1].trim()}) is not refused; tsc said:\n${out}`);
    assert.deepEqual([...lines].sort((a, b) => a - b), expected, `errors outside the misuse lines:\n${out}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('package.json exports: types first, every file shipped and present', () => {
  for (const [entry, target] of ENTRIES) {
    assert.equal(Object.keys(target)[0], 'types', `${entry}: "types" must come first`);
    for (const file of Object.values(target)) {
      assert.ok(pkg.files.some((f) => file.slice(2).startsWith(f)), `${entry}: ${file} is not in "files"`);
      assert.doesNotThrow(() => readFileSync(join(REPO, file)), `${entry}: ${file} missing`);
    }
  }
  assert.equal(pkg.types, pkg.exports['.'].types);
  // The one side effect: freshtoken/tabs registers the crossTab code; everything else may be dropped.
  assert.deepEqual(pkg.sideEffects, ['./js/tabs-register.js']);
  for (const peer of ['axios', 'pubnub', 'react', 'vue']) {
    assert.equal(pkg.peerDependenciesMeta[peer].optional, true, `${peer} is an optional peer`);
    assert.equal(pkg.dependencies?.[peer], undefined, `${peer} is never a dependency`);
  }
});

/** The names a declaration file exports, by the TypeScript checker (values only, not types). */
function declaredValues(file) {
  const program = ts.createProgram([file], { noEmit: true, moduleResolution: ts.ModuleResolutionKind.Bundler, module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 });
  const checker = program.getTypeChecker();
  const sym = checker.getSymbolAtLocation(program.getSourceFile(file));
  return checker.getExportsOfModule(sym)
    .filter((s) => {
      const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
      return (target.flags & ts.SymbolFlags.Value) !== 0;
    })
    .map((s) => s.getName()).sort();
}

for (const [entry, target] of ENTRIES) {
  test(`${entry}: the declarations export exactly the module's run-time exports`, async () => {
    const runtime = Object.keys(await import(join(REPO, target.default))).sort();
    assert.deepEqual(declaredValues(join(REPO, target.types)), runtime);
  });
}
