// What a test compares of an error: its name, code and message, and which of freshtoken's
// classes it is an instance of (shared by the React and Vue pages and the SSR test).
import { FreshtokenError, OptionsError, RefreshError } from '../../../js/index.js';

export const describeError = (e) => e && {
  name: e.name, code: e.code, message: e.message,
  isFreshtokenError: e instanceof FreshtokenError, isRefreshError: e instanceof RefreshError, isOptionsError: e instanceof OptionsError,
};
