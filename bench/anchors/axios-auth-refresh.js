// axios-auth-refresh is a plugin: it ships with axios, so both are counted.
export { default as axios } from 'axios';
export { createAuthRefresh } from 'axios-auth-refresh';
