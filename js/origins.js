// Where the token may go (SPEC behaviour 6): only to allowed origins, by default the
// page's own. Everything else goes out untouched.
import { optionsError } from './errors.js';

function pageHref() {
  const loc = globalThis.location;
  return loc && typeof loc.href === 'string' ? loc.href : undefined;
}

let seenLocation;
let seenOrigin = null;

/** The page's origin, or null where there is none (opaque origins, node). */
export function pageOrigin() {
  // A Location's origin never changes (a cross-origin navigation is a new realm), so it
  // is read once per Location object: this runs on every request.
  const loc = globalThis.location;
  if (loc !== seenLocation) {
    const o = loc && loc.origin;
    seenOrigin = typeof o === 'string' && o !== 'null' ? o : null;
    seenLocation = loc;
  }
  return seenOrigin;
}

/** Normalises the `origins` option into a Set of serialized origins. */
export function allowedOrigins(list) {
  if (list === undefined) {
    const own = pageOrigin();
    return new Set(own ? [own] : []);
  }
  if (!Array.isArray(list)) throw optionsError('origins must be an array of origin strings, e.g. ["https://api.example.com"]');
  const set = new Set();
  for (const item of list) {
    let origin = null;
    if (typeof item === 'string') {
      try { origin = new URL(item, pageHref()).origin; } catch { origin = null; }
    }
    if (!origin || origin === 'null') {
      throw optionsError(`origins: ${typeof item === 'string' ? JSON.stringify(item) : typeof item} is not an http(s) origin`);
    }
    set.add(origin);
  }
  return set;
}

/** The URL string of a fetch input. */
export function urlOf(input) {
  if (typeof input === 'string') return input;
  if (input instanceof URL) return input.href;
  if (input && typeof input.url === 'string') return input.url;
  return String(input);
}

/** The origin a fetch input goes to, or null when it cannot be resolved. */
export function originOf(input) {
  const url = urlOf(input);
  // Fast path: a path on the page's own origin.
  if (url.charCodeAt(0) === 47 /* / */ && url.charCodeAt(1) !== 47 && url.charCodeAt(1) !== 92) return pageOrigin();
  try {
    return new URL(url, pageHref()).origin;
  } catch {
    return null;
  }
}
