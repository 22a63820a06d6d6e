'use client';
// app/token.js — a client component: "loading" on the server and until the wasm is in.
import { useFreshtoken } from 'freshtoken/react';

export default function Token() {
  const { isLoading, state, accessToken, error, refresher } = useFreshtoken();
  if (error && !refresher) return <p role="alert">Sign-in is unavailable: {error.message}</p>;
  return <p id="token" data-state={state}>{isLoading ? 'loading' : accessToken ?? 'signed out'}</p>;
}
