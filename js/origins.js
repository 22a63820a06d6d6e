// Where a request goes, found as the browser will send it (`new Request(input).url`: the
// URL parser, relative to `document.baseURI`), never by a string test. Whether the token
// may go there is the engine's decision (src/engine/origins.rs, SPEC behaviour 6).

/** What relative URLs resolve against, as fetch and location.assign do: the document's base URL (`<base href>` counts), else the location; undefined with no page. */
export function baseURL() {
  const d = globalThis.document;
  if (d && typeof d.baseURI === 'string') return d.baseURI;
  const loc = globalThis.location;
  return loc && typeof loc.href === 'string' ? loc.href : undefined;
}

let seenLocation;
let seenOrigin = null;

/** The page's origin, or null where there is none (opaque origins, node). */
export function pageOrigin() {
  // A Location's origin never changes (a cross-origin navigation is a new realm).
  const loc = globalThis.location;
  if (loc !== seenLocation) {
    const o = loc && loc.origin;
    seenOrigin = typeof o === 'string' && o !== 'null' ? o : null;
    seenLocation = loc;
  }
  return seenOrigin;
}

// A Request's URL as fetch reads it: from its internal slot, through the platform's own
// getter (a brand check, which holds for a Request of any realm). A subclass's `url`
// getter, an own `url` property or a look-alike (`Symbol.toStringTag` 'Request') cannot
// tell another URL than the one fetch will use.
// Looked up at the first object input, not at import (in node, reading `Request` loads
// undici, which compiles its own wasm: server rendering must touch nothing).
let requestUrlGetter;

/** The URL of a real Request (of any realm), else null. */
export function urlOfRequest(v) {
  if (v === null || typeof v !== 'object') return null;
  requestUrlGetter ??= (typeof Request !== 'undefined' && Object.getOwnPropertyDescriptor(Request.prototype, 'url')?.get) || null;
  if (!requestUrlGetter) return null;
  try { return requestUrlGetter.call(v); } catch { return null; }
}

let lastInput = null;
let lastBase;
let lastURL = null;

/**
 * The URL a fetch input (string, URL, Request, anything with a stringifier) goes to, as a
 * `URL`, or null when it does not parse (fetch would throw). The URL parser drops tabs and
 * newlines and reads `\` as `/` exactly as fetch does, so `'/\t/evil.example/x'` is
 * `https://evil.example/x` here too.
 */
export function requestURL(input) {
  // Anything else is stringified as fetch does it; the caller then sends the URL found
  // here (`href`), so a stringifier that answers differently the second time cannot move it.
  const s = typeof input === 'string' ? input : urlOfRequest(input) ?? `${input}`; // a Symbol throws, as in fetch
  const base = baseURL();
  if (s === lastInput && base === lastBase) return lastURL;
  let url = null;
  try { url = new URL(s, base); } catch { url = null; }
  lastInput = s;
  lastBase = base;
  lastURL = url;
  return url;
}

// What a request's URL says, read once per URL object (requestURL hands back the same one for
// the same input and base, and nothing changes one): a URL's getters are slow when the page
// has been idle, and every request asks for its origin, and with an endpoint its text.
let factsURL;
let factsOrigin = null;
let factsHref = '';
function facts(url) {
  if (url !== factsURL) {
    const o = url ? url.origin : null;
    factsOrigin = o && o !== 'null' ? o : null;
    factsHref = url ? url.href.replace(/#.*$/, '') : '';
    factsURL = url;
  }
}

/** The origin of a URL from `requestURL` (null: none, or opaque). */
export function requestOrigin(url) {
  facts(url);
  return factsOrigin;
}

/** The text of a URL from `requestURL` without its fragment. */
export function requestHref(url) {
  facts(url);
  return factsHref;
}

let lastAnswer = null;
let lastAnswerOrigin = null;

/**
 * The origin of a response's URL (absolute: `Response.url`), or null (opaque). Its own
 * one-entry cache, so that reading an answer's origin does not evict the next request's
 * URL from `requestURL`'s (each would otherwise parse two URLs per request).
 */
export function answerOrigin(href) {
  if (href !== lastAnswer) {
    let o = null;
    try { o = new URL(href).origin; } catch { o = null; }
    lastAnswer = href;
    lastAnswerOrigin = o && o !== 'null' ? o : null;
  }
  return lastAnswerOrigin;
}
