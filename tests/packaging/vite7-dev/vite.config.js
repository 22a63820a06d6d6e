// The Vite 7 dev server. Its dependency pre-bundling moves freshtoken's JS to
// node_modules/.vite/deps/ without the .wasm beside it, so the one line freshtoken needs here is
// `optimizeDeps: { exclude: ['freshtoken'] }` (Vite 8 and every production build need none).
// FRESHTOKEN_WITHOUT_EXCLUDE=1 leaves it out, to show the error users get without it.
// /auth and /api go to the test server (process.env.API), as an app's dev proxy would.
const without = process.env.FRESHTOKEN_WITHOUT_EXCLUDE === '1';
export default {
  optimizeDeps: without ? {} : { exclude: ['freshtoken'] },
  server: { proxy: { '/auth': process.env.API, '/api': process.env.API } },
};
