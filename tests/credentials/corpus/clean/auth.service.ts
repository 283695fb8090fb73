import { Injectable } from "@angular/core";

const ACCESS_TOKEN_KEY = "accessToken";
const AUTH_STATE_KEY = "authState";
const PASSWORD_RESET_PATH = "/password/reset";

@Injectable({ providedIn: "root" })
export class AuthService {
  private readonly storageKey = "acme-auth";
  private readonly secretLabel = "bluum-secret";

  get token(): string | null {
    return localStorage.getItem(ACCESS_TOKEN_KEY);
  }

  set token(value: string | null) {
    if (value === null) {
      localStorage.removeItem(ACCESS_TOKEN_KEY);
    } else {
      localStorage.setItem(ACCESS_TOKEN_KEY, value);
    }
  }

  state(): string | null {
    return sessionStorage.getItem(AUTH_STATE_KEY) ?? sessionStorage.getItem(this.storageKey);
  }

  resetUrl(): string {
    return PASSWORD_RESET_PATH;
  }
}
