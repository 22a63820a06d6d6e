// The part of react-dom/client the recipes use (the repository has no @types/react-dom).
declare module 'react-dom/client' {
  export function createRoot(container: Element): { render(children: import('react').ReactNode): void; unmount(): void };
}
