// What the dedicated worker and the service workers run: a refresher with crossTab, driven by
// messages from the page ({ op, arg } with a MessagePort for the answer):
//   start { tokens? }  createRefresher({ tokens?, endpoint, crossTab: true })
//   state              { token, state, refreshes, adopted }
//   fetch body         refresher.fetch('/api/echo', POST body) -> { status }
import { createRefresher } from './node_modules/freshtoken/js/index.js';

export function serve(scope) {
  let refresher = null;
  let refreshes = 0;
  let adopted = 0;
  scope.addEventListener('message', async (e) => {
    const port = e.ports[0];
    const { op, arg } = e.data;
    try {
      if (op === 'start') {
        refresher = await createRefresher({ ...arg, endpoint: { url: '/auth/refresh' }, crossTab: true });
        refresher.on('refresh', (d) => { if (d.fromOtherTab) adopted += 1; else refreshes += 1; });
        port.postMessage({ ok: true, token: refresher.accessToken, joined: refresher._tabs != null });
      } else if (op === 'state') {
        port.postMessage({ ok: true, token: refresher.accessToken, state: refresher.state, refreshes, adopted });
      } else if (op === 'fetch') {
        const res = await refresher.fetch('/api/echo', { method: 'POST', body: arg });
        port.postMessage({ ok: true, status: res.status });
      }
    } catch (err) {
      port.postMessage({ ok: false, error: { name: err.name, code: err.code, message: err.message } });
    }
  });
}
