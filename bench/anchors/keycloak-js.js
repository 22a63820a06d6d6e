export { default as Keycloak } from 'keycloak-js';
