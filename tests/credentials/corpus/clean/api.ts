import axios, { AxiosInstance } from "axios";

export type OrderSide = "buy" | "sell";
export const enum OrderType {
  Market = "market",
  Limit = "limit",
}

const TOKEN_KEY = "bluum:access-token";
const SECRET_STORE_KEY = "bluum_secret_store";

export function createApi(getCredentials: () => Promise<{ key: string; secret: string }>): AxiosInstance {
  const api = axios.create({ baseURL: "https://sandbox.api.bluumfinance.com/v1", timeout: 5000 });
  api.interceptors.request.use(async (config) => {
    const { key, secret } = await getCredentials();
    config.auth = { username: key, password: secret };
    config.headers["Idempotency-Key"] = config.headers["Idempotency-Key"] ?? crypto.randomUUID();
    return config;
  });
  return api;
}

export function rememberTokenType(value: string): void {
  sessionStorage.setItem(TOKEN_KEY, value);
  sessionStorage.removeItem(SECRET_STORE_KEY);
}
