// A Server Component layout: it renders freshtoken's provider (a 'use client' module) with
// plain options, which the provider turns into a refresher in the browser after mount.
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
