// Exercises the starter's protocol runtime (serve, toRpcError, stdout protection) for tests/protocol.
import { createServer } from "node:net";
import { serve } from "../../../src/bluum_readiness/protocol/starters/bluum_adapter.mjs";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const silent = createServer(() => {}); // accepts connections and never answers
await new Promise((resolve) => silent.listen(0, "127.0.0.1", resolve));
const silentUrl = `http://127.0.0.1:${silent.address().port}/v1/investors`;
const closed = createServer();
await new Promise((resolve) => closed.listen(0, "127.0.0.1", resolve));
const closedUrl = `http://127.0.0.1:${closed.address().port}/v1/investors`;
closed.close(); // nothing listens there any more: ECONNREFUSED

serve(
  {
    async kyc_status() {
      console.log("a stray console.log");
      process.stdout.write("a stray stdout write\n");
      return "active";
    },
    async deposit() {
      const err = new Error("insufficient buying power");
      Object.assign(err, { status: 422, code: "BLUM-422-001", requestId: "req_probe", param: "amount" });
      throw err;
    },
    async withdraw() {
      return fetch(closedUrl);
    },
    async get_order() {
      return fetch(silentUrl, { signal: AbortSignal.timeout(50) });
    },
    async place_order() {
      await sleep(400);
      return "ord_slow";
    },
    async positions() {
      return [];
    },
    async upload_document() {
      // an AxiosError as axios 1.x builds it for a 409: the answer on err.response, headers an AxiosHeaders
      const headers = new Map([["x-request-id", "req_axios"]]);
      throw Object.assign(new Error("Request failed with status code 409"), {
        name: "AxiosError",
        isAxiosError: true,
        code: "ERR_BAD_REQUEST",
        response: {
          status: 409,
          headers: { get: (name) => headers.get(name.toLowerCase()) },
          data: { error: { code: "BLUM-409-002", message: "document already uploaded", param: "document" } },
        },
      });
    },
    async link_bank_account() {
      // a client that answers a flat {code, error} body, headers a plain object (axios 0.x)
      throw Object.assign(new Error("Request failed with status code 400"), {
        isAxiosError: true,
        code: "ERR_BAD_REQUEST",
        response: { status: 400, headers: { "x-request-id": "req_flat" }, data: { code: "BLUM-400-001", error: "bad bank" } },
      });
    },
    async create_investor() {
      // axios's own timeout
      throw Object.assign(new Error("timeout of 500ms exceeded"), { isAxiosError: true, code: "ECONNABORTED" });
    },
    async request_log() {
      return [];
    },
  },
  { name: "runtime-probe", capabilities: { request_log: true, alerts: true, webhook_url: null } },
);
