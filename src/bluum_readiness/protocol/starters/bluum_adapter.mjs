// bluum_adapter.mjs: our Bluum integration, as bluum-readiness drives it (adapter protocol 1).
//
// Run it:  bluum-readiness run --integration "exec:node bluum_adapter.mjs"
//
// bluum-readiness starts this program once per check and sends it one JSON-RPC 2.0 request per line on
// stdin; the runtime at the bottom answers each on stdout. Point every operation below at YOUR Bluum client
// (your SDK wrapper, service layer or HTTP backend): the suite proves how *that* code behaves through a
// fault-injecting proxy. The rules (docs/adapter-protocol.md):
//
// - send every Bluum call to BLUUM.baseUrl (the suite's proxy, ending in /v1), never a hard-coded URL;
// - take the key pair from readCredentials() for each request, or at least again after a 401: the file behind
//   it is your secret manager's stand-in, and the suite rewrites it when it rotates the pair;
// - use BLUUM.timeoutMs as your per-request timeout;
// - log to stderr (console.error, or your logger's destination set to stderr / fd 2): stdout carries the
//   protocol. From the moment this file runs, console.log/info/debug and process.stdout.write go to stderr;
//   load your client with `await import(…)` below (not a static `import` line, which runs before this file
//   does), so whatever it or a dependency prints while loading goes there too. The suite
//   reads that log: one line per HTTP exchange with method, path, status, X-Request-Id and duration (JSON or
//   text), failed attempts with what went wrong, refusals at warn/error with Bluum's code — never a secret;
// - throw when an operation fails. Give the error `status`, `code` (Bluum's BLUM-… code) and `requestId`
//   (the answer's X-Request-Id) when the API answered; axios errors are read as they are (err.response: its
//   status, Bluum's error body, the x-request-id header), and so are Node's own network errors (ECONNRESET, a
//   TimeoutError from AbortSignal.timeout, "fetch failed") and axios's (its timeout, ECONNRESET, …).
//
// No dependencies: Node 18 or newer (fetch, FormData and Blob are built in).

import { readFileSync, realpathSync } from "node:fs";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { setFlagsFromString } from "node:v8";

// stdout carries the protocol and nothing else: from here on, anything else written there goes to stderr.
const send = takeStdout();
exitAtOnce();

/** What the suite hands the program (see the environment table in docs/adapter-protocol.md). */
export const BLUUM = {
  baseUrl: process.env.BLUUM_API_BASE_URL,
  timeoutMs: Number(process.env.BLUUM_REQUEST_TIMEOUT_S ?? "10") * 1000,
  webhookTls: {
    cert: process.env.BLUUM_WEBHOOK_TLS_CERT,
    key: process.env.BLUUM_WEBHOOK_TLS_KEY,
    ca: process.env.BLUUM_WEBHOOK_CA_FILE,
  },
};

/** The current key pair, `{key, secret}`, as the secret source holds it now. */
export function readCredentials() {
  return JSON.parse(readFileSync(process.env.BLUUM_CREDENTIALS_FILE, "utf8"));
}

/** The signing secret of your webhook once the suite has registered your receiver, else null. */
export function readWebhookSecret() {
  const file = process.env.BLUUM_WEBHOOK_SECRET_FILE;
  try {
    return file ? readFileSync(file, "utf8").trim() : null;
  } catch (err) {
    if (err.code === "ENOENT") return null;
    throw err;
  }
}

// ---- your integration ----------------------------------------------------------------------------------

// TODO: build your Bluum client here. Load it with `await import(…)`, not a static `import` line: static imports
// run before this file does, so a banner your client or a dependency (dotenv, a config loader) prints to stdout
// while loading would reach the suite as garbage and break the program; loaded here, it goes to stderr. e.g.
//   const { AcmeBluum } = await import("./src/bluum/client.js");
//   const client = new AcmeBluum({ baseUrl: BLUUM.baseUrl, credentials: readCredentials, timeoutMs: BLUUM.timeoutMs });

const operations = {
  /** POST /investors with `profile`; return the investor id (inv_…). */
  async create_investor({ profile }) {
    return notImplemented("create_investor");
  },

  /** POST /documents as multipart (document_type, purpose, investor_id, and the file as `document`); return
   *  the document id (doc_…). `document` is {document_type, purpose, file_name, content_base64}. */
  async upload_document({ investor_id, document }) {
    return notImplemented("upload_document");
  },

  /** GET /investors/{investor_id}; return its `status`. */
  async kyc_status({ investor_id }) {
    return notImplemented("kyc_status");
  },

  /** POST /investors/{investor_id}/funding-sources/connect with `bank` (a Plaid or manual connect body);
   *  return the funding source id (fs_…). */
  async link_bank_account({ investor_id, bank }) {
    return notImplemented("link_bank_account");
  },

  /** POST /investors/{investor_id}/deposits {amount, currency: "USD", method, funding_source_id} with an
   *  Idempotency-Key header (the same on every retry); return the deposit id (dep_…). */
  async deposit({ investor_id, funding_source_id, amount, method }) {
    return notImplemented("deposit");
  },

  /** POST /investors/{investor_id}/orders with `order`; return the order id (ord_…). */
  async place_order({ investor_id, order }) {
    return notImplemented("place_order");
  },

  /** GET /investors/{investor_id}/orders/{order_id}; return the order object. */
  async get_order({ investor_id, order_id }) {
    return notImplemented("get_order");
  },

  /** POST /investors/{investor_id}/orders/{order_id}/cancel; return nothing. */
  async cancel_order({ investor_id, order_id }) {
    return notImplemented("cancel_order");
  },

  /** GET /investors/{investor_id}/positions (every page); return the positions. */
  async positions({ investor_id }) {
    return notImplemented("positions");
  },

  /** POST /investors/{investor_id}/withdrawals {amount, currency: "USD", method, funding_source_id} with an
   *  Idempotency-Key header (the same on every retry); return the withdrawal id (wd_…). */
  async withdraw({ investor_id, funding_source_id, amount, method }) {
    return notImplemented("withdraw");
  },

  // Optional capabilities: add the operation and set it true in `capabilities` below. Checks that need one
  // are "not verifiable" without it, never passed.
  // request_log() -> [{method, path, status, request_id, duration_ms}, …]   one entry per HTTP exchange
  // alerts() -> [{kind: "elevated_5xx" | "rate_limited" | "stuck_order" | "webhook_failure", …}, …]
  // processed_events() -> ["evt_…", …]   event ids whose effects your receiver applied, one per application
  // resource_status({resource_id}) -> "filled" | … | null   the status your receiver holds for a resource after
  //   the events it applied (webhooks.out-of-order reads it: an older event must not overwrite a newer one)
};

const capabilities = {
  request_log: false,
  alerts: false,
  processed_events: false,
  resource_status: false,
  webhook_url: null, // your receiver's https URL, served with BLUUM.webhookTls (the suite trusts that CA)
};

function notImplemented(operation) {
  throw new Error(`TODO: ${operation} is not wired to our Bluum client yet (bluum_adapter.mjs)`);
}

// ---- the protocol runtime: no need to edit below this line -----------------------------------------------

export const PROTOCOL = 1;

/** Answer the suite's requests with `operations` until stdin closes. */
export function serve(operations, { name = "bluum-adapter", capabilities = {} } = {}) {
  const advertised = {
    request_log: false,
    alerts: false,
    processed_events: false,
    resource_status: false,
    webhook_url: null,
  };
  for (const [capability, value] of Object.entries(capabilities)) {
    if (capability !== "webhook_url" && value && typeof operations[capability] !== "function") {
      console.error(`bluum-adapter: capability ${capability} is set but operations.${capability} is missing`);
      continue;
    }
    advertised[capability] = value;
  }
  const handle = async (line) => {
    let request;
    try {
      request = JSON.parse(line);
    } catch {
      return send({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "parse error" } });
    }
    const { id, method, params = {} } = request;
    if (method === "initialize") {
      return send({ jsonrpc: "2.0", id, result: { protocol: PROTOCOL, name, capabilities: advertised } });
    }
    if (method === "shutdown") return send({ jsonrpc: "2.0", id, result: null });
    const operation = Object.hasOwn(operations, method) ? operations[method] : undefined;
    if (typeof operation !== "function") {
      return send({ jsonrpc: "2.0", id, error: { code: -32601, message: `no such method: ${method}` } });
    }
    try {
      const result = await operation(params);
      send({ jsonrpc: "2.0", id, result: result ?? null });
    } catch (err) {
      send({ jsonrpc: "2.0", id, error: toRpcError(err) });
    }
  };
  // Each request is handled on its own, so a slow or hung one never holds up those after it.
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  lines.on("line", (line) => {
    if (line.trim()) handle(line);
  });
  lines.on("close", () => process.exit(0));
}

/** The JSON-RPC error object for a failed operation: what the API answered, or which network failure. Reads your
 *  own error's `status`, `code`, `param`, `requestId`/`request_id`, `transport`; axios errors (and errors shaped
 *  like them) through `err.response`: its status, Bluum's `{error: {code, message, param}}` body (or a flat
 *  `{code, error}`), its `x-request-id` header; Node's and axios's network failures by their code. */
export function toRpcError(err) {
  const cause = err?.cause;
  const response = err?.response && typeof err.response === "object" ? err.response : null;
  const body = response?.data && typeof response.data === "object" ? response.data : {};
  const envelope = body.error && typeof body.error === "object" ? body.error : body;
  const header = (name) =>
    typeof response?.headers?.get === "function" ? response.headers.get(name) : response?.headers?.[name];
  const bluumCode = [err?.bluumCode, err?.code, envelope.code].find((c) => typeof c === "string" && c.startsWith("BLUM-"));
  const networkCode = [err?.transport, err?.code, cause?.code].find(
    (c) => typeof c === "string" && !c.startsWith("BLUM-"),
  );
  const timedOut =
    ["TimeoutError", "AbortError"].includes(err?.name) ||
    cause?.name === "TimeoutError" ||
    (err?.code === "ECONNABORTED" && /timeout/i.test(String(err?.message))); // axios's timeout
  const fetchFailed = err?.name === "TypeError" && err?.message === "fetch failed"; // undici's network error
  const status = Number.isInteger(err?.status) ? err.status : Number.isInteger(response?.status) ? response.status : null;
  const apiMessage = envelope.message ?? (typeof body.error === "string" ? body.error : undefined);
  return {
    code: -32000,
    message: String((response && apiMessage) || (err?.message ?? err)),
    data: {
      status,
      code: bluumCode ?? null,
      param: err?.param ?? envelope.param ?? null,
      request_id: err?.requestId ?? err?.request_id ?? header("x-request-id") ?? null,
      transport:
        status === null
          ? timedOut
            ? "ETIMEDOUT"
            : (networkCode ?? (fetchFailed ? (cause?.message ?? "fetch failed") : null))
          : null,
    },
  };
}

/** Node's fetch (undici) parses HTTP with a WebAssembly module that V8 compiles again with its optimising tier, in
 *  the background (~0.06 s of CPU), and a process's exit waits for that compile (0.2-0.4 s when a check ends soon
 *  after its first request) — in every check, as the suite starts the program anew for each. V8's baseline
 *  WebAssembly code is plenty for an API client's traffic. Called once, when this file runs, before any request. */
function exitAtOnce() {
  setFlagsFromString("--liftoff-only");
}

/** Keep stdout for the protocol: anything else written there goes to stderr (the log) instead. Called once, when
 *  this file runs (a function declaration, so it exists before the code above it runs). */
function takeStdout() {
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = process.stderr.write.bind(process.stderr);
  return (message) => write(`${JSON.stringify(message)}\n`);
}

const runDirectly = process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
if (runDirectly) serve(operations, { name: "bluum-adapter", capabilities });
