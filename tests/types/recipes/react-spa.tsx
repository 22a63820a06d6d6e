// The README's React (Vite, webpack: no server rendering) recipe, type-checked by tests/types.
// --- README ---
import { createRoot } from 'react-dom/client';
import { createRefresher } from 'freshtoken';
import { RefresherProvider, useFreshtoken } from 'freshtoken/react';

function Orders() {
  const { isLoading, error, accessToken, fetch } = useFreshtoken();
  if (isLoading) return <p>Loading…</p>;
  if (!accessToken) return <p>Signed out{error ? `: ${error.message}` : ''}</p>;
  return <button onClick={() => fetch('/api/orders')}>Load orders</button>;
}

// Start loading the wasm at once; the provider shows "loading" until the promise resolves.
const refresher = createRefresher({ endpoint: { url: '/auth/refresh' }, storage: 'sessionStorage' });
createRoot(document.getElementById('root')!).render(
  <RefresherProvider refresher={refresher}><Orders /></RefresherProvider>,
);

// After login (anywhere): (await refresher).setTokens(tokens), or useFreshtoken().setTokens(tokens).
// --- end ---
