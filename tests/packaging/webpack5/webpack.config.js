// No loader or plugin for the wasm: webpack 5 emits it as an asset from
// new URL('freshtoken_bg.wasm', import.meta.url) in freshtoken's glue.
const path = require('node:path');

module.exports = {
  mode: 'production',
  entry: './src/index.js',
  output: { path: path.resolve(__dirname, 'dist'), publicPath: '/app/', clean: true },
};
