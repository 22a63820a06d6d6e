// The Vite 8 dev server: nothing for freshtoken. /auth and /api go to the test server
// (process.env.API), as an app's dev proxy would.
export default {
  server: { proxy: { '/auth': process.env.API, '/api': process.env.API } },
};
