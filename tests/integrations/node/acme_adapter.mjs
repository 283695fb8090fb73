// The adapter of a Node team's integration: the starter that `bluum-readiness init --lang node` writes, with
// its operations wired to the team's client (acme_bluum.mjs) and its receiver (acme_webhooks.mjs).
//
//   exec:node tests/integrations/node/acme_adapter.mjs [--variant=NAME]
//
// Variants (known-bad integrations for the project's own tests):
//   env-credentials     reads BLUUM_API_KEY / BLUUM_API_SECRET once at start and never again
//   no-retries          one attempt per operation
//   no-withdrawal-key   withdrawals go out without an Idempotency-Key
//   logs-secret         logs every request's headers (the Authorization header, so the secret) to stderr
//   log-without-request-id   its JSON log lines leave out the X-Request-Id
//   no-failure-logs     attempts that got no answer (reset, timeout) are not logged
//   swallows-4xx        a refusal (400, 403, 404, 409, 422) returns an empty result; only the access line shows it
//   request-log         also exposes request_log() (the capability)

import { BLUUM, readCredentials, readWebhookSecret, serve } from "../../../src/bluum_readiness/protocol/starters/bluum_adapter.mjs";
import { AcmeBluumClient } from "./acme_bluum.mjs";
import { AcmeWebhookReceiver } from "./acme_webhooks.mjs";

const variant = (process.argv.find((arg) => arg.startsWith("--variant=")) ?? "").slice("--variant=".length);
const VARIANTS = [
  "",
  "env-credentials",
  "no-retries",
  "no-withdrawal-key",
  "logs-secret",
  "log-without-request-id",
  "no-failure-logs",
  "swallows-4xx",
  "request-log",
  "resource-status",
  "last-write-wins",
];
if (!VARIANTS.includes(variant)) {
  console.error(`unknown --variant=${variant}; one of ${VARIANTS.join(", ")}`);
  process.exit(64);
}

const fromEnvironmentOnce = { key: process.env.BLUUM_API_KEY, secret: process.env.BLUUM_API_SECRET };

const client = new AcmeBluumClient({
  baseUrl: BLUUM.baseUrl,
  credentials: variant === "env-credentials" ? () => fromEnvironmentOnce : readCredentials,
  timeoutMs: BLUUM.timeoutMs,
  maxAttempts: variant === "no-retries" ? 1 : 6,
  keyless: new Set(variant === "no-withdrawal-key" ? ["/withdrawals"] : []),
  logHeaders: variant === "logs-secret",
  logRequestIds: variant !== "log-without-request-id",
  logFailures: variant !== "no-failure-logs",
  swallowRefusals: variant === "swallows-4xx",
});

const receiver = BLUUM.webhookTls.cert
  ? await new AcmeWebhookReceiver({
      tls: BLUUM.webhookTls,
      secret: readWebhookSecret,
      lastWriteWins: variant === "last-write-wins",
    }).listen()
  : null;

const operations = {
  create_investor: async ({ profile }) => (await client.createInvestor(profile)).id,
  upload_document: async ({ investor_id, document }) =>
    (await client.uploadDocument(investor_id, { ...document, content: Buffer.from(document.content_base64, "base64") }))
      .id,
  kyc_status: async ({ investor_id }) => (await client.getInvestor(investor_id)).status,
  link_bank_account: async ({ investor_id, bank }) => (await client.connectBank(investor_id, bank)).id,
  deposit: async ({ investor_id, funding_source_id, amount, method }) =>
    (await client.deposit(investor_id, { amount, currency: "USD", method, funding_source_id })).id,
  withdraw: async ({ investor_id, funding_source_id, amount, method }) =>
    (await client.withdraw(investor_id, { amount, currency: "USD", method, funding_source_id })).id,
  place_order: async ({ investor_id, order }) => (await client.placeOrder(investor_id, order)).id,
  get_order: async ({ investor_id, order_id }) => client.getOrder(investor_id, order_id),
  cancel_order: async ({ investor_id, order_id }) => {
    await client.cancelOrder(investor_id, order_id);
  },
  positions: async ({ investor_id }) => client.positions(investor_id),
  request_log: async () => client.exchanges,
  processed_events: async () => receiver?.processed ?? [],
  resource_status: async ({ resource_id }) => receiver?.states.get(resource_id)?.status ?? null,
};

serve(operations, {
  name: `acme-bluum${variant ? `-${variant}` : ""}`,
  capabilities: {
    request_log: variant === "request-log",
    processed_events: receiver !== null,
    // the receiver's state is shown in two variants only, so the default stays a team without it
    resource_status: receiver !== null && ["resource-status", "last-write-wins"].includes(variant),
    webhook_url: receiver?.url ?? null,
  },
});
