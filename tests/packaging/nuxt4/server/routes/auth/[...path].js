// The app's auth routes forward to the test's auth server (process.env.API, read per request).
import { forward } from '../../forward.js';

export default defineEventHandler(forward);
