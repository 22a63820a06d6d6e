// Type declarations for `freshtoken/tabs`: a side-effect entry, exports nothing.
// `import 'freshtoken/tabs'` registers the `crossTab` code so `createRefresher` needs no
// dynamic `import()` (which service workers disallow).
export {};
