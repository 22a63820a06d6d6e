// The README's Node / test-runner recipe, type-checked by tests/types (the packaging tests run
// the same calls in node 20 and under Vitest + happy-dom). Above the marker: what the snippet
// takes from the app around it.
declare const login: { accessToken: string; refreshToken: string };

// --- README ---
import init, { createRefresher, decodeToken } from 'freshtoken';

await init();                                   // in node: reads freshtoken_bg.wasm from disk
console.log(decodeToken(login.accessToken).expiresAt);

const refresher = await createRefresher({
  tokens: login,
  origins: ['https://api.example.com'],         // node has no page origin: say where the token may go
  refresh: async ({ refreshToken, signal }) => {
    const res = await fetch('https://auth.example.com/refresh', { method: 'POST', body: refreshToken ?? '', signal });
    return res.json();
  },
});
const res = await refresher.fetch('https://api.example.com/orders');
// --- end ---
export { res };
