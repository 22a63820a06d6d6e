// Server rendering in node with no window, document, location or storage: react-dom/server's
// renderToString and @vue/server-renderer render the providers and every hook/composable in
// each form (options, a promise, null) without throwing, report the loading state, never fetch
// or compile the wasm (decodeToken still says not-initialized), and never read location or
// storage. Any use of window or document would throw a ReferenceError here: they do not exist.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createElement as h } from 'react';
import { renderToString as renderReact } from 'react-dom/server';
import { createSSRApp, defineComponent, h as vh } from 'vue';
import { renderToString as renderVue } from 'vue/server-renderer';

const touched = [];
let ft;
let react;
let vue;

before(async () => {
  assert.equal(typeof window, 'undefined');
  assert.equal(typeof document, 'undefined');
  // Record any read of the browser globals that exist as getters here, and any wasm fetch or compile.
  for (const name of ['location', 'localStorage', 'sessionStorage']) {
    Object.defineProperty(globalThis, name, { configurable: true, get() { touched.push(name); return undefined; } });
  }
  const realFetch = globalThis.fetch;
  globalThis.fetch = (...args) => { touched.push(`fetch ${String(args[0])}`); return realFetch(...args); };
  for (const fn of ['instantiate', 'instantiateStreaming', 'compile', 'compileStreaming']) {
    const real = WebAssembly[fn];
    WebAssembly[fn] = (...args) => { touched.push(`WebAssembly.${fn}`); return real(...args); };
  }
  ft = await import('../../js/index.js');
  react = await import('../../js/react.js');
  vue = await import('../../js/vue.js');
});

const OPTIONS = { tokens: { accessToken: 'header.payload.sig', refreshToken: 'r' }, endpoint: { url: '/auth/refresh' } };
const notInitialized = () => assert.throws(() => ft.decodeToken('a.b.c'), (e) => e instanceof ft.FreshtokenError && e.code === 'not-initialized');

test("freshtoken/react starts with 'use client' (Next.js: importable from a Server Component)", () => {
  const src = readFileSync(new URL('../../js/react.js', import.meta.url), 'utf8');
  assert.match(src, /^'use client';\n/);
});

test('react-dom/server renderToString: the provider in each form and every hook render the loading state, touching nothing', () => {
  const seen = [];
  function Probe({ form }) {
    const s = react.useFreshtoken();
    const token = react.useAccessToken();
    const r = react.useRefresher();
    seen.push({ form, state: s.state, isLoading: s.isLoading, accessToken: s.accessToken, error: s.error, refresher: s.refresher, token, r });
    return h('p', { 'data-state': s.state }, s.isLoading ? 'loading' : 'ready');
  }
  const forms = {
    options: { options: OPTIONS },
    promise: { refresher: new Promise(() => {}) },
    null: { refresher: null },
  };
  for (const [form, props] of Object.entries(forms)) {
    const html = renderReact(h(react.RefresherProvider, props, h(Probe, { form })));
    assert.equal(html, '<p data-state="loading">loading</p>', form);
  }
  assert.deepEqual(seen.map((s) => s.form), Object.keys(forms));
  for (const s of seen) {
    assert.deepEqual({ ...s, form: undefined }, { form: undefined, state: 'loading', isLoading: true, accessToken: null, error: null, refresher: null, token: null, r: null });
  }
  assert.deepEqual(touched, []);
  notInitialized();
});

test('react-dom/server: a hook without a provider throws FreshtokenError no-provider; a provider with nothing throws OptionsError', () => {
  const Alone = () => h('p', null, react.useAccessToken());
  assert.throws(() => renderReact(h(Alone)), (e) => e instanceof ft.FreshtokenError && e.code === 'no-provider');
  assert.throws(() => renderReact(h(react.RefresherProvider, {}, 'x')), (e) => e instanceof ft.OptionsError && e.code === 'bad-option');
});

test('@vue/server-renderer: the plugin with options or a promise and every composable render the loading state, touching nothing', async () => {
  const Probe = defineComponent({
    setup() {
      const s = vue.useFreshtoken();
      const token = vue.useAccessToken();
      const r = vue.useRefresher();
      return () => vh('p', { 'data-state': s.state.value, 'data-loading': String(s.isLoading.value) },
        `${s.accessToken.value}/${token.value}/${r}/${s.refresher.value}/${s.error.value}`);
    },
  });
  for (const given of [{ options: OPTIONS }, { refresher: new Promise(() => {}) }]) {
    const app = createSSRApp(Probe);
    app.use(vue.freshtokenPlugin, given);
    assert.equal(await renderVue(app), '<p data-state="loading" data-loading="true">null/null/null/null/null</p>');
  }
  assert.deepEqual(touched, []);
  notInitialized();
});

// --- Given a refresher holding a token (issue 18): the server still renders the loading state
// and never the token, whether the binding got a Refresher, a resolved Promise of one or an
// object that looks like one. These run last: creating the Refresher loads the wasm in this
// process, which the tests above assert has not happened.

const SECRET = 'secret-token';
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');

/** What each binding is given: a real Refresher in node, a resolved Promise of it, a look-alike. */
async function holdingATokenForms() {
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const accessToken = `${b64({ alg: 'HS256' })}.${b64({ sub: 'u', exp })}.${SECRET}`;
  const refresher = await ft.createRefresher({ tokens: { accessToken, refreshToken: 'r' }, origins: ['https://api.example'], refresh: async () => { throw new Error('no refresh here'); } });
  assert.equal(refresher.state, 'fresh');
  assert.ok(refresher.accessToken.includes(SECRET));
  const lookAlike = { accessToken: SECRET, state: 'fresh', on: () => () => {}, fetch() {}, getAccessToken: async () => SECRET, refresh: async () => SECRET, logout() {}, setTokens() {} };
  return { refresher, forms: { refresher, 'resolved promise': Promise.resolve(refresher), 'look-alike': lookAlike } };
}
/** `html` for each form: the loading state, which has no token in it. */
const each = (forms, html) => (assert.ok(!html.includes(SECRET)), Object.fromEntries(Object.keys(forms).map((f) => [f, html])));

test('react-dom/server: given a Refresher holding a token, a resolved Promise of it or a look-alike, every hook renders the loading state, no token', async () => {
  const { refresher, forms } = await holdingATokenForms();
  try {
    function Probe() {
      const s = react.useFreshtoken();
      const token = react.useAccessToken();
      const r = react.useRefresher();
      return h('p', { 'data-state': s.state }, `${s.isLoading ? 'loading' : 'ready'}/${s.accessToken}/${token}/${r?.accessToken}/${s.refresher?.accessToken}`);
    }
    const html = {};
    for (const [form, given] of Object.entries(forms)) html[form] = renderReact(h(react.RefresherProvider, { refresher: given }, h(Probe)));
    assert.deepEqual(html, each(forms, '<p data-state="loading">loading/null/null/undefined/undefined</p>'));
  } finally {
    refresher.dispose();
  }
});

test('@vue/server-renderer: given a Refresher holding a token, a resolved Promise of it or a look-alike, every composable renders the loading state, no token, no listener', async () => {
  const { refresher, forms } = await holdingATokenForms();
  try {
    const Probe = defineComponent({
      setup() {
        const s = vue.useFreshtoken();
        const token = vue.useAccessToken();
        const r = vue.useRefresher();
        return () => vh('p', { 'data-state': s.state.value, 'data-loading': String(s.isLoading.value) },
          `${s.accessToken.value}/${token.value}/${r?.accessToken}/${s.refresher.value?.accessToken}/${s.error.value}`);
      },
    });
    const html = {};
    for (const [form, given] of Object.entries(forms)) {
      const app = createSSRApp(Probe);
      app.use(vue.freshtokenPlugin, { refresher: given });
      html[form] = await renderVue(app);
    }
    assert.deepEqual(html, each(forms, '<p data-state="loading" data-loading="true">null/null/undefined/undefined/null</p>'));
    const listeners = [...refresher._events.listeners.values()].reduce((n, set) => n + set.size, 0);
    assert.equal(listeners, 0, 'rendering on the server subscribed nothing (it would never be unsubscribed)');
  } finally {
    refresher.dispose();
  }
});
