// plugins/freshtoken.js: on the server the plugin only provides the loading state; in the
// browser it creates the refresher once the app is mounted (after hydration).
import { freshtokenPlugin } from 'freshtoken/vue';

export default defineNuxtPlugin((nuxtApp) => {
  nuxtApp.vueApp.use(freshtokenPlugin, { options: { endpoint: { url: '/auth/refresh' } } });
});
