// The webpack 5 dev server (webpack serve): nothing for freshtoken (webpack emits the wasm from
// new URL('freshtoken_bg.wasm', import.meta.url) in the glue). /auth and /api go to the test
// server (process.env.API), as an app's dev proxy would.
const path = require('node:path');

module.exports = {
  mode: 'development',
  entry: './src/main.js',
  output: { path: path.resolve(__dirname, 'dist'), publicPath: '/' },
  devServer: {
    static: { directory: __dirname, watch: false },
    hot: false,
    liveReload: false,
    client: { logging: 'warn', overlay: false },
    proxy: [{ context: ['/auth', '/api'], target: process.env.API }],
  },
};
