// The README's quick start, type-checked by tests/types (tsc). Above the marker: what the
// snippet takes from the app around it.
declare const accessToken: string, refreshToken: string, expiresIn: number;
declare const router: { push(path: string): void };
declare const order: { id: number };

// --- README ---
import { createRefresher } from 'freshtoken';

// After login:
const refresher = await createRefresher({
  tokens: { accessToken, refreshToken, expiresIn },   // what your login endpoint answered
  endpoint: { url: '/api/auth/refresh' },              // POST {refreshToken} -> {accessToken, ...}
  onSessionExpired: () => router.push('/login'),
});

// Either use refresher.fetch ...
const res = await refresher.fetch('/api/orders', { method: 'POST', body: JSON.stringify(order) });
// ... or leave the app's code as it is:
refresher.installFetchInterceptor();
// --- end ---
export { res };
