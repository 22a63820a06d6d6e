// The same service worker without `import 'freshtoken/tabs'`: crossTab then fails with an
// error that names the fix.
import { serve } from './session.js';

self.addEventListener('install', () => self.skipWaiting());
serve(self);
