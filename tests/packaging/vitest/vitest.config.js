// No configuration for freshtoken: only the DOM environment the app's tests use, with the
// page at the API's origin (as an app served beside its API), so happy-dom's same-origin
// fetch applies.
export default {
  test: {
    environment: 'happy-dom',
    environmentOptions: { happyDOM: { url: `${process.env.API}/app/` } },
    include: ['*.spec.js'],
  },
};
