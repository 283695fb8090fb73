"""The adapter protocol spoken by a second language: a Python program in its own process.

    exec:python tests/integrations/program/python_adapter.py [--variant=NAME]

The runtime half (``serve``) uses the standard library only, as a team's program in any language would carry
its own; the operations are the reference integration's, built from what the protocol hands a program (the
environment, the credentials file re-read for every request, the webhook secret file, the TLS files).

Variants: ``reference`` (default); ``crash-on-deposit`` (exits mid-run); ``garbage`` (prints a banner on
stdout); ``protocol-2`` (answers initialize with another version); ``hang`` (answers initialize, then nothing);
``slow-start`` (sleeps before reading stdin); ``stray-stdout-in-deposit`` (a debugging print to stdout in
``deposit``, mid-run); ``coloured-logs`` (no ``request_log()``: its stderr log lines, a colour code around each
part, are its request log).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

PROTOCOL = 1


def serve(operations: dict[str, Callable[..., Any]], *, name: str, capabilities: dict[str, Any]) -> None:
    """Answer the suite's requests until stdin closes; each request runs on its own thread."""
    out = sys.stdout
    sys.stdout = sys.stderr  # stray prints go to the log, never into the protocol
    lock = threading.Lock()

    def send(message: dict[str, Any]) -> None:
        with lock:
            out.write(json.dumps(message) + "\n")
            out.flush()

    def handle(request: dict[str, Any]) -> None:
        request_id, method, params = request.get("id"), request.get("method"), request.get("params") or {}
        if method == "initialize":
            send({"jsonrpc": "2.0", "id": request_id, "result": {"protocol": PROTOCOL, "name": name,
                                                                  "capabilities": capabilities}})  # fmt: skip
            return
        if method == "shutdown":
            send({"jsonrpc": "2.0", "id": request_id, "result": None})
            return
        operation = operations.get(str(method))
        if operation is None:
            send({"jsonrpc": "2.0", "id": request_id, "error": {"code": -32601, "message": f"no such method {method}"}})
            return
        try:
            result = operation(**params)
        except Exception as exc:  # the operation failed: that is the answer
            send({"jsonrpc": "2.0", "id": request_id, "error": rpc_error(exc)})
        else:
            send({"jsonrpc": "2.0", "id": request_id, "result": result})

    with ThreadPoolExecutor(max_workers=32) as pool:
        for line in sys.stdin:
            if line.strip():
                pool.submit(handle, json.loads(line))
        pool.shutdown(wait=False, cancel_futures=True)
    os._exit(0)  # threads stuck in a hung call must not keep the program alive


def rpc_error(exc: BaseException) -> dict[str, Any]:
    status = getattr(exc, "status", None)
    transport = None if status is not None else type(exc).__name__
    data = {
        "status": status,
        "code": getattr(exc, "code", None),
        "param": getattr(exc, "param", None),
        "request_id": getattr(exc, "request_id", None),
        "transport": transport if type(exc).__name__ in ("RequestTimeout", "ConnectionDropped") else None,
    }
    return {"code": -32000, "message": str(exc), "data": data}


# -- the integration: the reference client, fed from the protocol's environment --------------------------------


def reference_operations() -> tuple[dict[str, Callable[..., Any]], dict[str, Any]]:
    from bluum_readiness.integration import Credentials, IntegrationEnv, LocalTLS
    from bluum_readiness.reference import create_fast

    def credentials() -> Credentials:
        pair = json.loads(Path(os.environ["BLUUM_CREDENTIALS_FILE"]).read_text())
        return Credentials(pair["key"], pair["secret"])

    def webhook_secret() -> str:
        return Path(os.environ["BLUUM_WEBHOOK_SECRET_FILE"]).read_text().strip()

    tls = None
    if os.environ.get("BLUUM_WEBHOOK_TLS_CERT"):
        tls = LocalTLS(*(os.environ[f"BLUUM_WEBHOOK_{name}"] for name in ("TLS_CERT", "TLS_KEY", "CA_FILE")))
    env = IntegrationEnv(
        base_url=os.environ["BLUUM_API_BASE_URL"],
        credentials=credentials,
        request_timeout_s=float(os.environ["BLUUM_REQUEST_TIMEOUT_S"]),
        webhook_secret=webhook_secret if os.environ.get("BLUUM_WEBHOOK_SECRET_FILE") else None,
        webhook_tls=tls,
    )
    ref = create_fast(env)

    def upload_document(investor_id: str, document: dict[str, Any]) -> str:
        content = base64.b64decode(document.pop("content_base64"))
        return ref.upload_document(investor_id, {**document, "content": content})

    operations: dict[str, Callable[..., Any]] = {
        "create_investor": ref.create_investor,
        "upload_document": upload_document,
        "kyc_status": ref.kyc_status,
        "link_bank_account": ref.link_bank_account,
        "deposit": ref.deposit,
        "place_order": ref.place_order,
        "get_order": ref.get_order,
        "cancel_order": ref.cancel_order,
        "positions": ref.positions,
        "withdraw": ref.withdraw,
        "request_log": ref.request_log,
        "alerts": ref.alerts,
        "processed_events": ref.processed_events,
        "resource_status": ref.resource_status,
    }
    capabilities = {"request_log": True, "alerts": True, "processed_events": tls is not None,
                    "resource_status": tls is not None,
                    "webhook_url": ref.webhook_url if tls is not None else None}  # fmt: skip
    return operations, capabilities


def main() -> None:
    variant = next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--variant=")), "reference")
    line = "%(asctime)s %(levelname)s %(name)s %(message)s"
    if variant == "coloured-logs":  # as a logger does where the CI sets FORCE_COLOR: a colour code around each part
        line = " ".join(f"\x1b[{colour}m%({part})s\x1b[0m" for colour, part in
                        (("2", "asctime"), ("32", "levelname"), ("34", "name"), ("1", "message")))  # fmt: skip
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format=line)
    if variant == "slow-start":
        time.sleep(60)
    if variant == "garbage":
        print("Starting acme-bluum adapter v1.2 ...", flush=True)
    if variant in ("protocol-2", "hang"):
        request_id = json.loads(sys.stdin.readline())["id"]
        hello = {"protocol": 2 if variant == "protocol-2" else 1, "capabilities": {}}
        print(json.dumps({"jsonrpc": "2.0", "id": request_id, "result": hello}), flush=True)
        if variant == "hang":
            time.sleep(3600)  # answers nothing more, and ignores stdin closing
        sys.stdin.read()
        return
    operations, capabilities = reference_operations()
    if variant == "crash-on-deposit":

        def crash(**_: Any) -> None:
            print("FATAL: deposit handler crashed (simulated)", file=sys.stderr, flush=True)
            os._exit(3)

        operations["deposit"] = crash
    if variant == "stray-stdout-in-deposit":
        deposit = operations["deposit"]

        def chatty(**params: Any) -> Any:
            print(f"debug: deposit {params.get('amount')}", file=sys.__stdout__, flush=True)  # a stray Printf
            return deposit(**params)

        operations["deposit"] = chatty
    if variant == "coloured-logs":  # its log lines are its request log
        operations.pop("request_log")
        capabilities["request_log"] = False
    serve(operations, name=f"python-{variant}", capabilities=capabilities)


if __name__ == "__main__":
    main()
