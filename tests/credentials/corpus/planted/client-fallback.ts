// The shape the issue was filed about: a fallback pair, formatted onto the line below its name.
import { BluumClient } from "@acme/bluum-client";

const BLUUM_API_KEY = process.env.BLUUM_API_KEY ||
  '%%bluum_key%%';
const BLUUM_API_SECRET = process.env.BLUUM_API_SECRET ||
  '%%bluum_secret%%';
export const AUTH_KEY = 'bluum_auth_key';

export const client = new BluumClient({ apiKey: BLUUM_API_KEY, apiSecret: BLUUM_API_SECRET });
