// The README's worker recipe, type-checked by tests/types (tests/packaging/workers runs the
// same in a dedicated worker and a module service worker).
// --- README ---
// sw.js, registered with navigator.serviceWorker.register('/sw.js', { type: 'module' })
import 'freshtoken/tabs';              // service workers forbid import(): register the crossTab code up front
import { createRefresher } from 'freshtoken';

const refresher = createRefresher({ endpoint: { url: '/auth/refresh' }, crossTab: true });
self.addEventListener('message', async (e) => {
  const res = await (await refresher).fetch('/api/sync', { method: 'POST', body: JSON.stringify(e.data) });
  e.ports[0]?.postMessage(res.status);
});
// --- end ---
export {};
