// The app's API routes forward to the test's API server, Authorization header included.
import { forward } from '../../forward.js';

export default defineEventHandler(forward);
