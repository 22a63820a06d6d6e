// No plugin: freshtoken's wasm is found by Vite through new URL(..., import.meta.url).
export default { base: '/app/', build: { outDir: 'dist', emptyOutDir: true } };
