// A Bluum client as a TypeScript/Node team would write it (here plain JS, no dependencies): Node's fetch,
// retries with capped full-jitter backoff that honour Retry-After, one Idempotency-Key per logical POST,
// credentials read from the secret source for every request (one refresh on 401), JSON log lines on stderr.
// Its defects for the known-bad variants are switched on by options (see acme_adapter.mjs).

import { randomUUID } from "node:crypto";

const RETRYABLE = new Set([429, 500, 502, 503, 504]);

export class BluumApiError extends Error {
  constructor(message, { status = null, code = null, param = null, requestId = null, transport = null } = {}) {
    super(message);
    this.name = "BluumApiError";
    Object.assign(this, { status, code, param, requestId, transport });
  }
}

/** One JSON object per line on stderr, pino-style. Never given headers or credentials. */
export function jsonLogger(stream = process.stderr) {
  const line = (level, msg, fields) =>
    stream.write(`${JSON.stringify({ level, time: new Date().toISOString(), msg, ...fields })}\n`);
  return {
    info: (msg, fields = {}) => line("info", msg, fields),
    warn: (msg, fields = {}) => line("warn", msg, fields),
    error: (msg, fields = {}) => line("error", msg, fields),
  };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class AcmeBluumClient {
  /**
   * @param {object} options
   * @param {string} options.baseUrl        the API root, ending in /v1
   * @param {() => {key: string, secret: string}} options.credentials  the current pair (read per request)
   * @param {number} options.timeoutMs      per attempt
   * @param {number} [options.maxAttempts]  attempts per operation, the first included
   * @param {number} [options.baseDelayMs]  the first backoff window; it doubles per retry up to capDelayMs
   * @param {Set<string>} [options.keyless] POST path suffixes sent without an Idempotency-Key (a defect)
   * @param {boolean} [options.logHeaders]  log every request's headers, credentials included (a defect)
   * @param {boolean} [options.logRequestIds]  false: log lines leave out the X-Request-Id (a defect)
   * @param {boolean} [options.logFailures]  false: attempts that got no answer are not logged (a defect)
   * @param {boolean} [options.swallowRefusals]  true: a 4xx refusal returns an empty result (a defect)
   */
  constructor({
    baseUrl,
    credentials,
    timeoutMs,
    maxAttempts = 5,
    baseDelayMs = 50,
    capDelayMs = 250,
    retryAfterCapMs = 30_000,
    keyless = new Set(),
    logHeaders = false,
    logRequestIds = true,
    logFailures = true,
    swallowRefusals = false,
    logger = jsonLogger(),
  }) {
    Object.assign(this, { baseUrl, credentials, timeoutMs, maxAttempts, baseDelayMs, capDelayMs, retryAfterCapMs });
    Object.assign(this, { keyless, logHeaders, logRequestIds, logFailures, swallowRefusals, logger });
    this.exchanges = [];
  }

  backoffMs(retry) {
    return Math.random() * Math.min(this.capDelayMs, this.baseDelayMs * 2 ** retry);
  }

  /** One logical operation: every attempt carries the same Idempotency-Key. */
  async call(method, path, { json, form } = {}) {
    const idempotencyKey = method === "POST" && ![...this.keyless].some((s) => path.endsWith(s)) ? randomUUID() : null;
    let refreshed = false;
    for (let attempt = 1; ; attempt++) {
      const { key, secret } = this.credentials();
      const headers = {
        Accept: "application/json",
        Authorization: `Basic ${Buffer.from(`${key}:${secret}`).toString("base64")}`,
      };
      if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
      let body;
      if (json !== undefined) {
        headers["Content-Type"] = "application/json";
        body = JSON.stringify(json);
      } else if (form !== undefined) {
        body = form();
      }
      if (this.logHeaders) this.logger.info("bluum request headers", { method, path, headers });
      const started = performance.now();
      const url = `${this.baseUrl}${path}`;
      let response;
      let text;
      try {
        response = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(this.timeoutMs) });
        text = await response.text();
      } catch (err) {
        const transport = transportName(err);
        this.record({ method, path: new URL(url).pathname, status: null, started, attempt, error: transport });
        if (attempt < this.maxAttempts) {
          await sleep(this.backoffMs(attempt - 1));
          continue;
        }
        throw new BluumApiError(`${method} ${path} failed: ${transport}`, { transport });
      }
      const requestId = response.headers.get("x-request-id");
      this.record({ method, path: new URL(url).pathname, status: response.status, started, attempt, requestId });
      if (response.ok) return text ? JSON.parse(text) : {};
      if (response.status === 401 && !refreshed) {
        refreshed = true; // the pair may have been rotated: read it again, once
        attempt--;
        continue;
      }
      if (RETRYABLE.has(response.status) && attempt < this.maxAttempts) {
        const retryAfterMs = Number(response.headers.get("retry-after")) * 1000 || 0;
        await sleep(Math.max(this.backoffMs(attempt - 1), Math.min(retryAfterMs, this.retryAfterCapMs)));
        continue;
      }
      if (this.swallowRefusals && response.status < 500 && ![401, 429].includes(response.status)) return {}; // as if it worked
      throw apiError(method, path, response.status, text, requestId);
    }
  }

  record({ method, path, status, started, attempt, requestId = null, error = null }) {
    const entry = { method, path, status, request_id: requestId, duration_ms: performance.now() - started, attempt };
    this.exchanges.push(entry);
    if (this.exchanges.length > 5000) this.exchanges.shift();
    if (status === null && !this.logFailures) return;
    const level = status === null || status >= 500 ? "warn" : "info";
    const line = this.logRequestIds ? entry : { ...entry, request_id: undefined };
    this.logger[level]("bluum request", error ? { ...line, error } : line);
  }

  createInvestor(profile) {
    return this.call("POST", "/investors", { json: profile });
  }

  getInvestor(investorId) {
    return this.call("GET", `/investors/${investorId}`);
  }

  uploadDocument(investorId, { document_type, purpose, file_name, content }) {
    const form = () => {
      const data = new FormData();
      data.set("document_type", document_type);
      data.set("purpose", purpose);
      data.set("investor_id", investorId);
      data.set("document", new Blob([content]), file_name);
      return data;
    };
    return this.call("POST", "/documents", { form });
  }

  async connectBank(investorId, bank) {
    if (bank.type === "plaid") {
      await this.call("POST", `/investors/${investorId}/funding-sources/plaid/link-token`, { json: {} });
      const linked = await this.call("POST", `/investors/${investorId}/funding-sources/connect`, { json: bank });
      return linked.data[0];
    }
    return this.call("POST", `/investors/${investorId}/funding-sources/connect`, { json: bank });
  }

  deposit(investorId, body) {
    return this.call("POST", `/investors/${investorId}/deposits`, { json: body });
  }

  withdraw(investorId, body) {
    return this.call("POST", `/investors/${investorId}/withdrawals`, { json: body });
  }

  placeOrder(investorId, order) {
    return this.call("POST", `/investors/${investorId}/orders`, { json: order });
  }

  getOrder(investorId, orderId) {
    return this.call("GET", `/investors/${investorId}/orders/${orderId}`);
  }

  cancelOrder(investorId, orderId) {
    return this.call("POST", `/investors/${investorId}/orders/${orderId}/cancel`);
  }

  async positions(investorId) {
    const positions = [];
    for (;;) {
      const page = await this.call("GET", `/investors/${investorId}/positions?limit=200&offset=${positions.length}`);
      positions.push(...page.data);
      if (!page.has_more || page.data.length === 0) return positions;
    }
  }
}

function apiError(method, path, status, text, requestId) {
  let error = {};
  try {
    error = JSON.parse(text)?.error ?? {};
  } catch {
    // not JSON: keep the status
  }
  const message = error.message ?? `${method} ${path} answered ${status}`;
  return new BluumApiError(message, { status, code: error.code ?? null, param: error.param ?? null, requestId });
}

function transportName(err) {
  if (err?.name === "TimeoutError" || err?.name === "AbortError") return "ETIMEDOUT";
  return err?.cause?.code ?? err?.code ?? err?.name ?? "network error";
}
