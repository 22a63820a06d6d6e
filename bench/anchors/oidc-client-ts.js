export { UserManager } from 'oidc-client-ts';
