export { jwtDecode } from 'jwt-decode';
