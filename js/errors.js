// Errors are values with a stable `name` and `code`; messages never carry a token.
// They are classes, exported from 'freshtoken', so `err instanceof RefreshError` works.

/**
 * The base of every error freshtoken throws; also thrown itself for misuse of the SDK
 * (`not-initialized`, `disposed`, `no-provider`, `wasm-load-failed`).
 */
export class FreshtokenError extends Error {
  /**
   * @param {string} code   a stable machine-readable code
   * @param {string} message what is wrong, in plain words
   * @param {object} [props] extra fields (status, retryAfterMs, ...)
   */
  constructor(code, message, props) {
    super(message);
    this.name = this.name; // an own property, as before the classes: JSON and spreads keep it
    this.code = code;
    if (props) Object.assign(this, props);
  }
}
// `name` is set on each prototype, as a string, so minification cannot change it.
FreshtokenError.prototype.name = 'FreshtokenError';

/** A wrong option (unknown name, wrong type, out of range). */
export class OptionsError extends FreshtokenError {}
OptionsError.prototype.name = 'OptionsError';

/** A token `decodeToken` cannot read. */
export class TokenDecodeError extends FreshtokenError {}
TokenDecodeError.prototype.name = 'TokenDecodeError';

/** A failed refresh; `rejected: true` when the server refused the refresh token. */
export class RefreshError extends FreshtokenError {}
RefreshError.prototype.name = 'RefreshError';

/** The session is over or absent. */
export class SessionError extends FreshtokenError {}
SessionError.prototype.name = 'SessionError';

const CLASSES = { FreshtokenError, OptionsError, TokenDecodeError, RefreshError, SessionError };

/**
 * Builds the error of class `name` (any other name gets a FreshtokenError renamed to it).
 * @param {string} name   'OptionsError' | 'TokenDecodeError' | 'RefreshError' | 'SessionError' | 'FreshtokenError'
 * @param {string} code   a stable machine-readable code
 * @param {string} message what is wrong, in plain words
 * @param {object} [props] extra fields (status, retryAfterMs, ...)
 */
export function makeError(name, code, message, props) {
  const Class = Object.hasOwn(CLASSES, name) ? CLASSES[name] : null;
  const e = new (Class ?? FreshtokenError)(code, message, props);
  if (!Class) e.name = name;
  return e;
}

export const optionsError = (message) => new OptionsError('bad-option', message);
