// freshtoken/tabs: `import 'freshtoken/tabs'` (once, anywhere) registers the cross-tab code
// with createRefresher, which then needs no dynamic import() for `crossTab: true`. Needed
// where import() is disallowed (service workers); elsewhere it only saves a round trip.
// This file is the package's one side effect (package.json `sideEffects`).
import { joinTabs } from './tabs.js';
import { registry } from './registry.js';

registry.joinTabs = joinTabs;
