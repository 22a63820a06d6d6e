// The page (a Server Component) renders the client component that uses the hook.
import Token from './token';
import TestHooks from './test-hooks';

export default function Page() {
  return <main><h1>freshtoken</h1><Token /><TestHooks /></main>;
}
