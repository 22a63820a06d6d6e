// A component using useFreshtoken(), shared by the React browser page (react-app.js) and the
// server-rendering test (tests/node/ssr.test.mjs), so the markup hydrated in Chromium is the
// markup react-dom/server rendered in node. Each render is pushed to globalThis.sessionRenders
// when the page defines it.
import { createElement as h } from 'react';
import { useFreshtoken } from '../../../js/react.js';
import { describeError } from './describe-error.js';

export function Session({ id = 's' }) {
  const s = useFreshtoken();
  globalThis.sessionRenders?.push({
    id, state: s.state, isLoading: s.isLoading, token: s.accessToken, hasRefresher: s.refresher !== null, error: describeError(s.error),
  });
  if (typeof window !== 'undefined') window.session = s;
  return h('p', { 'data-session': '', 'data-id': id, 'data-state': s.state },
    s.isLoading ? 'loading' : s.error && !s.refresher ? `error: ${s.error.code}` : s.accessToken ?? 'signed out');
}
