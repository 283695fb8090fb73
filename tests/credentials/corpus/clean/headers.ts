export const SIGNATURE_HEADER = "X-Bluum-Signature";
export const API_KEY_HEADER = 'X-Api-Key';
export const IDEMPOTENCY_KEY_HEADER = "Idempotency-Key";
export const AUTHORIZATION_HEADER = 'Authorization';
export const WEBHOOK_SECRET_ENV = "BLUUM_WEBHOOK_SECRET";

export interface SignedHeaders {
  [SIGNATURE_HEADER]: string;
  "webhook-id": string;
  "webhook-timestamp": string;
}

export function authorization(key: string, secret: string): Record<string, string> {
  const token = Buffer.from(`${key}:${secret}`).toString("base64");
  return { [AUTHORIZATION_HEADER]: `Basic ${token}` };
}

export function idempotencyHeaders(key: string): Record<string, string> {
  return { [IDEMPOTENCY_KEY_HEADER]: key };
}
