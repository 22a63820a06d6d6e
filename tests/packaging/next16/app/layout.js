// app/layout.js — a Server Component: the provider gets plain options and creates the
// refresher in the browser, after hydration.
import { RefresherProvider } from 'freshtoken/react';

export const metadata = { title: 'freshtoken in Next.js', icons: { icon: 'data:,' } };

export default function RootLayout({ children }) {
  return (
    <html lang="en">
      <body>
        <RefresherProvider options={{ endpoint: { url: '/auth/refresh' } }}>{children}</RefresherProvider>
      </body>
    </html>
  );
}
