// Errors are values with a stable `name` and `code`; messages never carry a token.

/**
 * @param {string} name   e.g. 'OptionsError', 'RefreshError', 'SessionError'
 * @param {string} code   a stable machine-readable code
 * @param {string} message what is wrong, in plain words
 * @param {object} [props] extra fields (status, retryAfterMs, ...)
 */
export function makeError(name, code, message, props) {
  const e = new Error(message);
  e.name = name;
  e.code = code;
  if (props) Object.assign(e, props);
  return e;
}

export const optionsError = (message) => makeError('OptionsError', 'bad-option', message);
