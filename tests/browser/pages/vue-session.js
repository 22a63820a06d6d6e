// A component using freshtoken/vue's useFreshtoken(), shared by the Vue browser page
// (vue-app.js) and the server-rendering test (tests/node/ssr.test.mjs). Each change is pushed
// to globalThis.sessionRenders when the page defines it.
import { defineComponent, h, watchEffect } from 'vue';
import { useFreshtoken } from '../../../js/vue.js';
import { describeError } from './describe-error.js';

export const Session = defineComponent({
  props: { id: { type: String, default: 's' } },
  setup(props) {
    const s = useFreshtoken();
    if (typeof window !== 'undefined') {
      window.session = s;
      watchEffect(() => {
        globalThis.sessionRenders?.push({
          id: props.id, state: s.state.value, isLoading: s.isLoading.value, token: s.accessToken.value,
          hasRefresher: s.refresher.value !== null, error: describeError(s.error.value),
        });
      });
    }
    return () => h('p', { 'data-session': '', 'data-id': props.id, 'data-state': s.state.value },
      s.isLoading.value ? 'loading' : s.error.value && !s.refresher.value ? `error: ${s.error.value.code}` : s.accessToken.value ?? 'signed out');
  },
});
