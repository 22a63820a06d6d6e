// Nothing for freshtoken. turbopack.root: this app sits inside the freshtoken repository,
// whose own lock file Next would otherwise take for the workspace root.
export default { turbopack: { root: import.meta.dirname } };
