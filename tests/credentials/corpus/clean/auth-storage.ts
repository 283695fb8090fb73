// Browser-side session handling for the Acme Invest web app.
import { BluumClient } from "@acme/bluum-client";

export const AUTH_KEY = 'bluum_auth_key';
export const TOKEN_STORAGE_KEY = "bluum.session.token";
const REFRESH_TOKEN_KEY = 'bluum-refresh-token';
const SESSION_COOKIE = "acme_session";

export enum TokenType {
  Access = 'access_token',
  Refresh = 'refresh_token',
  Id = 'id_token',
}

export function saveToken(token: string): void {
  window.localStorage.setItem(TOKEN_STORAGE_KEY, token);
}

export function loadToken(): string | null {
  return window.localStorage.getItem(TOKEN_STORAGE_KEY);
}

export function clearSession(): void {
  localStorage.removeItem(AUTH_KEY);
  localStorage.removeItem(REFRESH_TOKEN_KEY);
  document.cookie = `${SESSION_COOKIE}=; Max-Age=0`;
}

export const client = new BluumClient({
  baseUrl: "https://sandbox.api.bluumfinance.com/v1",
  apiKey: process.env.BLUUM_API_KEY!,
  apiSecret: process.env.BLUUM_API_SECRET!,
});
