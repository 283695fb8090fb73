// A Node team's Bluum webhook receiver (node:https, no dependencies): Standard Webhooks signatures verified
// over the raw body with a constant-time compare and a 5-minute tolerance before anything else; 200 as soon as
// the event is queued; one application per event id, however often and however concurrently it arrives.

import { createHmac, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:https";

const TOLERANCE_S = 300;
const PATH = "/webhooks/bluum";

export class AcmeWebhookReceiver {
  /** @param {{tls: {cert: string, key: string}, secret: () => string | null, lastWriteWins?: boolean}} options */
  constructor({ tls, secret, lastWriteWins = false }) {
    this.secret = secret;
    this.lastWriteWins = lastWriteWins; // a known-bad variant: the event received last overwrites the state
    this.seen = new Set();
    this.processed = [];
    this.states = new Map(); // resource id -> {status, at}: the newest event's, by the event's own timestamp
    this.server = createServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, (req, res) =>
      this.handle(req, res),
    );
  }

  listen() {
    return new Promise((resolve) => {
      this.server.listen(0, "127.0.0.1", () => {
        this.url = `https://127.0.0.1:${this.server.address().port}${PATH}`;
        resolve(this);
      });
    });
  }

  handle(req, res) {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      const reply = (status, body) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      if (req.method !== "POST" || req.url !== PATH) return reply(404, { error: "not_found" });
      const body = Buffer.concat(chunks);
      const secret = this.secret();
      if (!secret) return reply(503, { error: "not_configured" });
      const problem = verify(secret, req.headers, body);
      if (problem) return reply(400, { error: "invalid_signature", reason: problem });
      let event;
      try {
        event = JSON.parse(body.toString("utf8"));
      } catch {
        return reply(400, { error: "invalid_signature", reason: "the signed body is not JSON" });
      }
      if (typeof event?.id !== "string" || event.id !== req.headers["webhook-id"]) {
        return reply(400, { error: "invalid_signature", reason: "webhook-id and the event id differ" });
      }
      const duplicate = this.seen.has(event.id);
      this.seen.add(event.id);
      if (!duplicate) setImmediate(() => this.apply(event)); // the effect, after the acknowledgement
      reply(200, { received: true, duplicate });
    });
  }
}

AcmeWebhookReceiver.prototype.apply = function apply(event) {
  this.processed.push(event.id);
  const resource = event.data?.id;
  const at = Date.parse(event.timestamp ?? "");
  if (typeof resource !== "string" || typeof event.data?.status !== "string") return;
  const current = this.states.get(resource);
  if (this.lastWriteWins || !current || !(at < current.at)) this.states.set(resource, { status: event.data.status, at });
};

/** Why the delivery is not authentic, or null when it is. */
function verify(secret, headers, body) {
  const id = headers["webhook-id"];
  const timestamp = headers["webhook-timestamp"];
  const signatures = headers["webhook-signature"];
  if (!id || !timestamp || !signatures) return "missing signature headers";
  if (!/^\d+$/.test(timestamp)) return "malformed timestamp";
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > TOLERANCE_S) return "timestamp outside the tolerance";
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const expected = createHmac("sha256", key).update(`${id}.${timestamp}.`).update(body).digest();
  for (const entry of signatures.split(" ")) {
    const [version, value] = entry.split(",", 2);
    if (version !== "v1" || !value) continue;
    const given = Buffer.from(value, "base64");
    if (given.length === expected.length && timingSafeEqual(given, expected)) return null;
  }
  return "no signature matches the body";
}
