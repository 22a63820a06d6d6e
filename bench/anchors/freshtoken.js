// freshtoken as an app imports it: the main entry (its wasm is added to the sizes separately).
export { default as init, createRefresher, decodeToken } from '../../js/index.js';
