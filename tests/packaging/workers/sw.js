// A module service worker: import() is disallowed in service workers, so the crossTab code is
// registered by its entry (freshtoken/tabs) before createRefresher needs it.
import './node_modules/freshtoken/js/tabs-register.js';
import { serve } from './session.js';

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));
serve(self);
