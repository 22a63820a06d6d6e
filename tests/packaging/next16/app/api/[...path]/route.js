// The app's API routes forward to the test's API server (process.env.API, read per request),
// Authorization header included.
import { forward } from '../../forward';

export const dynamic = 'force-dynamic';
export const GET = forward;
export const POST = forward;
