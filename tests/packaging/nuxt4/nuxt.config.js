// Nothing for freshtoken in a production build. `nuxt dev` runs Vite 7, whose dependency
// pre-bundling drops the .wasm: the one line freshtoken needs there is the vite one below.
export default defineNuxtConfig({
  vite: { optimizeDeps: { exclude: ['freshtoken'] } },
  compatibilityDate: '2025-07-15',
  devtools: { enabled: false },
  telemetry: false,
  app: { head: { link: [{ rel: 'icon', href: 'data:,' }] } },
});
