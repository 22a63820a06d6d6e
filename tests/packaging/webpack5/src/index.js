// A webpack 5 app whose HTTP goes through axios: freshtoken's axios adapter attaches the
// token and replays once on 401/403 through the shared refresh.
import axios from 'axios';
import { createRefresher } from 'freshtoken';
import { attachAxios } from 'freshtoken/axios';

async function main() {
  const login = (await axios.post('/auth/login')).data;
  const refresher = await createRefresher({ tokens: login, endpoint: { url: '/auth/refresh' } });
  const api = axios.create();
  attachAxios(refresher, api);
  const show = () => { document.getElementById('token').textContent = refresher.accessToken ?? 'signed out'; };
  refresher.on('schedule', show);
  show();
  window.refresher = refresher;
  window.callApi = async (body) => {
    // axios's default validateStatus: a 401 is an error, which the adapter replays.
    try {
      const res = await api.post('/api/echo', body);
      return { status: res.status, body: res.data };
    } catch (e) {
      return { status: e.response ? e.response.status : 0, body: null };
    }
  };
  window.callOther = async (url) => (await api.get(url)).status;
}

main().then(() => { window.ready = true; }, (e) => { window.initError = String(e && e.stack || e); });
