// The page (a Server Component) renders the client component that uses the hook.
import Token from './token';

export default function Page() {
  return <main><h1>freshtoken</h1><Token /></main>;
}
