// Nothing for freshtoken in a production build. (`nuxt dev` runs Vite 7, whose dependency
// pre-bundling drops the .wasm: there add vite: { optimizeDeps: { exclude: ['freshtoken'] } }.)
export default defineNuxtConfig({
  compatibilityDate: '2025-07-15',
  devtools: { enabled: false },
  telemetry: false,
  app: { head: { link: [{ rel: 'icon', href: 'data:,' }] } },
});
