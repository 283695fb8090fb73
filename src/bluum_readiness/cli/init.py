"""``bluum-readiness init``: write a commented starter ``bluum-readiness.toml`` and an adapter template into the
current directory (never overwriting an existing file): ``bluum_adapter.py`` (``--lang python``, the default), or a
program speaking the adapter protocol with its runtime and no dependencies: ``bluum_adapter.mjs`` (``--lang node``),
``bluum_adapter.go`` (``--lang go``) or ``BluumAdapter.java`` (``--lang java``)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from bluum_readiness.config import CONFIG_FILE
from bluum_readiness.errors import ConfigError

ADAPTER_FILE = "bluum_adapter.py"
NODE_ADAPTER_FILE = "bluum_adapter.mjs"
GO_ADAPTER_FILE = "bluum_adapter.go"
JAVA_ADAPTER_FILE = "BluumAdapter.java"

CONFIG_TEMPLATE = """\
# bluum-readiness configuration (docs: docs/configuration.md). Command-line flags override these settings.

# "embedded" runs against a sandbox twin started for the run (no account, no network);
# a URL runs against a real Bluum environment, e.g. "https://sandbox.api.bluumfinance.com/v1".
target = "embedded"

# Your integration adapter (see @ADAPTER_FILE@ next to this file): MODULE:FACTORY for a Python adapter, or
# exec:COMMAND for a program in any language speaking the adapter protocol (docs/adapter-protocol.md).
# The reference integration, which passes everything: "bluum_readiness.reference:create_fast".
integration = "@INTEGRATION@"

# Checklist items to run (empty: all of them): lifecycle, idempotency, error-handling, webhooks,
# credentials, smoke-test, credential-rotation, observability.
only = []

# pytest-xdist processes: 0 for one process, a number, or "auto". The whole run stays under the
# target's rate limit (10 requests/s against a URL target unless rate_limit_per_s says otherwise).
workers = 0

# Where readiness.json (and pytest.log) go.
out = "readiness-out"

# Seeds fault plans and the checks' randomness; recorded in the report so a run can be replayed.
seed = 0

[credentials]
# Never put the secret here. source = "env" reads BLUUM_API_KEY / BLUUM_API_SECRET;
# "file" reads the secret from `path` (chmod 600) and the key from `key` or BLUUM_API_KEY;
# "command" runs `command` and reads the secret from its output (e.g. a secret-manager CLI);
# "aws" reads AWS Secrets Manager (pip install 'bluum-readiness[aws]'): the secret alone, or
# JSON {"key": "…", "secret": "…"}.
source = "env"
# key = "your-key-id"
# path = "~/.config/bluum/secret"
# command = "op read op://bluum/sandbox/secret"
# secret_id = "bluum/sandbox"       # for "aws"; region = "eu-west-1"; endpoint_url = "…" (optional)
# rotation_period_days = 90         # the current key must be younger than this
# key_created = 2026-10-01          # the day your pair was created (Bluum dashboard; no API shows it):
#                                   # key age is judged on it, shown as declared, never as observed

[scan]
# The secret scan of the credentials item (detect-secrets plus Bluum key patterns). Files git ignores are
# skipped; reviewed false positives go into .secrets.baseline (python -m bluum_readiness.credentials baseline)
# or get a `# pragma: allowlist secret` comment.
paths = ["."]
# exclude = ["fixtures/**"]
# baseline = ".secrets.baseline"   # the default when the file exists

[thresholds]
# What the checks hold your integration to.
request_timeout_s = 0.5   # the per-request timeout your integration is told to use
max_attempts = 8          # the most attempts a bounded retry policy may make
max_backoff_s = 30.0      # the longest single wait between attempts we accept

[webhooks]
# Leave empty to test the receiver your adapter serves (webhook_url). To test an endpoint that runs
# elsewhere, give its https URL and ONE source of its signing secret (never the secret itself):
# url = "https://hooks.staging.acme.example/bluum"
# secret_env = "ACME_BLUUM_WEBHOOK_SECRET"     # or secret_file = "…" (chmod 600) or secret_command = "…"
# ca_file = "certs/ca.pem"                     # a CA to trust for it (default: the system store)
# If your integration consumes no Bluum webhooks at all, say so: the webhooks item is then "not applicable"
# (the email says you do not use webhooks) instead of unverified. Not with a url above, nor with a webhook_url.
# used = false

# [alerts]
# Alerts from your monitoring (Prometheus + Alertmanager, Grafana, PagerDuty, Datadog…) instead of an alerts()
# method: the suite listens here during the run, and your alerting system sends it its notifications
# (docs/alerts.md; ready-to-copy rules in examples/monitoring/). Name your alert for each thing checked:
# listen = "127.0.0.1:9094"               # point the webhook here (any path); loopback only
# elevated_5xx = "AcmeBluumHigh5xx"       # its name, or label matchers: { alertname = "…", service = "bluum" }
# rate_limited = "AcmeBluumRateLimited"
# stuck_order = "AcmeBluumStuckOrder"
# webhook_failure = "AcmeBluumWebhooksMissing"
# quiet_s = 10                            # normal traffic watched for a false alarm (scrape + evaluation + group_wait)

[company]
# For the readiness report and the email draft to support@bluumfinance.com.
# name = "Acme Invest"
# dashboard_email = "ops@acme.example"
# product_description = "Robo-advisor for retail investors"
# integration_model = "Direct API integration from our backend (server to server)"
"""

ADAPTER_TEMPLATE = '''\
"""Our Bluum integration, as bluum-readiness drives it (the adapter contract: docs/adapter-contract.md).

bluum-readiness calls ``create(env)`` and then the operations below. Point every one of them at YOUR
integration code (your Bluum client, service layer or HTTP backend): the suite proves how *that* code
behaves through a fault-injecting proxy. Rules of the contract:

- send every Bluum API call to ``env.base_url`` (the suite's proxy), never a hard-coded URL;
- read credentials with ``env.credentials()`` (the *current* pair; it changes during the rotation drill);
- use ``env.request_timeout_s`` as your per-request timeout;
- raise an exception when an operation fails (attributes ``code``, ``status``, ``request_id`` help the report);
- log through Python ``logging``: the suite reads it — one record per HTTP exchange with method, path, status,
  X-Request-Id and duration, failed attempts with what went wrong, refusals at WARNING with Bluum's code, never
  a secret (or expose ``request_log()``).

Run it: ``bluum-readiness run --integration bluum_adapter:create`` (or set ``integration`` in
bluum-readiness.toml).
"""

from __future__ import annotations

from typing import Any

from bluum_readiness.integration import IntegrationEnv


class BluumAdapter:
    """Each operation maps to one Bluum API call (documented next to it). Replace the TODOs with calls into
    your own integration code."""

    def __init__(self, env: IntegrationEnv) -> None:
        self.env = env
        # TODO: build your Bluum client here, e.g.
        #   self.client = MyBluumClient(base_url=env.base_url, credentials=env.credentials,
        #                               timeout=env.request_timeout_s)

    def create_investor(self, profile: dict[str, Any]) -> str:
        """POST /investors with ``profile``; return the investor id (inv_…)."""
        raise NotImplementedError("TODO: create_investor")

    def upload_document(self, investor_id: str, document: dict[str, Any]) -> str:
        """POST /documents (multipart: document_type, purpose, investor_id, file ``document``); return doc_….

        ``document`` is ``{document_type, purpose, file_name, content: bytes}``.
        """
        raise NotImplementedError("TODO: upload_document")

    def kyc_status(self, investor_id: str) -> str:
        """GET /investors/{investor_id}; return its ``status``."""
        raise NotImplementedError("TODO: kyc_status")

    def link_bank_account(self, investor_id: str, bank: dict[str, Any]) -> str:
        """POST /investors/{investor_id}/funding-sources/connect with ``bank``; return the funding source id (fs_…)."""
        raise NotImplementedError("TODO: link_bank_account")

    def deposit(self, investor_id: str, funding_source_id: str, amount: str, method: str = "ach") -> str:
        """POST /investors/{investor_id}/deposits with an Idempotency-Key header; return dep_…."""
        raise NotImplementedError("TODO: deposit")

    def place_order(self, investor_id: str, order: dict[str, Any]) -> str:
        """POST /investors/{investor_id}/orders with ``order``; return ord_…."""
        raise NotImplementedError("TODO: place_order")

    def get_order(self, investor_id: str, order_id: str) -> dict[str, Any]:
        """GET /investors/{investor_id}/orders/{order_id}; return the order."""
        raise NotImplementedError("TODO: get_order")

    def cancel_order(self, investor_id: str, order_id: str) -> None:
        """POST /investors/{investor_id}/orders/{order_id}/cancel."""
        raise NotImplementedError("TODO: cancel_order")

    def positions(self, investor_id: str) -> list[dict[str, Any]]:
        """GET /investors/{investor_id}/positions (every page); return the positions."""
        raise NotImplementedError("TODO: positions")

    def withdraw(self, investor_id: str, funding_source_id: str, amount: str, method: str = "ach") -> str:
        """POST /investors/{investor_id}/withdrawals with an Idempotency-Key header; return wd_…."""
        raise NotImplementedError("TODO: withdraw")

    # Optional capabilities: checks that need them are "not verifiable" without them (never passed).
    # def request_log(self) -> list[dict[str, Any]]: ...   # {method, path, status, request_id, duration_ms}
    # def alerts(self) -> list[dict[str, Any]]: ...        # {kind: "elevated_5xx" | "rate_limited" | ...}
    # webhook_url: str                                     # your receiver's https URL
    # def processed_events(self) -> list[str]: ...         # event ids whose effects were applied

    def close(self) -> None:
        """Release connections (optional)."""


def create(env: IntegrationEnv) -> BluumAdapter:
    """The factory bluum-readiness calls once per check: ``--integration bluum_adapter:create``."""
    return BluumAdapter(env)
'''


@dataclass(frozen=True)
class Starter:
    """What ``init --lang LANG`` writes: the adapter file, its text, and the integration setting that runs it."""

    adapter_file: str
    integration: str
    next_step: str

    def adapter_text(self) -> str:
        if self.adapter_file == ADAPTER_FILE:
            return ADAPTER_TEMPLATE
        return resources.files("bluum_readiness.protocol").joinpath("starters", self.adapter_file).read_text("utf-8")

    def config_text(self) -> str:
        return CONFIG_TEMPLATE.replace("@ADAPTER_FILE@", self.adapter_file).replace("@INTEGRATION@", self.integration)


STARTERS = {
    "python": Starter(ADAPTER_FILE, "bluum_adapter:create", f"implement the TODOs in {ADAPTER_FILE}"),
    "node": Starter(
        NODE_ADAPTER_FILE,
        f"exec:node {NODE_ADAPTER_FILE}",
        f"wire the operations in {NODE_ADAPTER_FILE} to your Bluum client (docs/adapter-protocol.md)",
    ),
    "go": Starter(
        GO_ADAPTER_FILE,
        f"exec:go run {GO_ADAPTER_FILE}",
        f"wire integration() in {GO_ADAPTER_FILE} to your Bluum client (docs/adapter-protocol.md; to start faster, "
        f'`go build -o bluum-adapter {GO_ADAPTER_FILE}` and integration = "exec:./bluum-adapter")',
    ),
    "java": Starter(
        JAVA_ADAPTER_FILE,
        "exec:java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp build BluumAdapter",
        f"wire integration() in {JAVA_ADAPTER_FILE} to your Bluum client (docs/adapter-protocol.md), compile it "
        f"with `javac -d build {JAVA_ADAPTER_FILE}` (again after each change)",
    ),
}


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "init",
        help=f"write a starter {CONFIG_FILE} and an adapter template ({ADAPTER_FILE}, {NODE_ADAPTER_FILE}, "
        f"{GO_ADAPTER_FILE} or {JAVA_ADAPTER_FILE})",
        description=f"Write {CONFIG_FILE} (commented settings) and an adapter template with every operation of the "
        f"adapter contract as a TODO into --dir: {ADAPTER_FILE} (--lang python, the default), or a program "
        f"speaking the adapter protocol, with its runtime and no dependencies: {NODE_ADAPTER_FILE} (--lang node), "
        f"{GO_ADAPTER_FILE} (--lang go: standard library, Go 1.19+) or {JAVA_ADAPTER_FILE} (--lang java: "
        "standard library, Java 17+; the Go and Java starters carry an example client and webhook receiver that "
        "pass against the twin). Existing files are never overwritten.",
    )
    p.add_argument("--dir", default=".", help="where to write them (default: the current directory)")
    p.add_argument(
        "--lang",
        choices=sorted(STARTERS),
        default="python",
        help="the adapter's language (default: python); other languages follow docs/adapter-protocol.md",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    folder = Path(args.dir)
    starter = STARTERS[args.lang]
    files = {folder / CONFIG_FILE: starter.config_text(), folder / starter.adapter_file: starter.adapter_text()}
    try:
        existing = [str(path) for path in files if path.exists() or path.is_symlink()]
    except OSError as exc:  # e.g. a name longer than the system allows
        raise _cannot_write(args.dir, exc) from None
    if existing:
        raise ConfigError(
            f"{' and '.join(existing)} already exist{'s' if len(existing) == 1 else ''}; init never overwrites "
            "files — move or delete them first, or run init in another folder (--dir)"
        )
    written: list[Path] = []
    try:
        if folder.exists() and not folder.is_dir():
            raise ConfigError(f"--dir {args.dir} is a file, not a folder; pass a folder (it is made when missing)")
        folder.mkdir(parents=True, exist_ok=True)
        for path, text in files.items():
            with path.open("x", encoding="utf-8") as handle:  # "x": never overwrite one made meanwhile
                written.append(path)
                handle.write(text)
    except OSError as exc:
        for path in written:  # all or nothing: a half-written starter is worse than none
            path.unlink(missing_ok=True)
        raise _cannot_write(args.dir, exc) from None
    for path in files:
        print(f"wrote {path}")
    print(f"next: {starter.next_step}, then run `bluum-readiness run`")
    return 0


def _cannot_write(folder: str, exc: OSError) -> ConfigError:
    """One line for a folder init cannot write into: which, why (the system's words), and what to do."""
    why = exc.strerror or type(exc).__name__
    where = f" ({exc.filename})" if exc.filename and str(exc.filename) != folder else ""
    return ConfigError(
        f"cannot write the starter files into --dir {folder}: {why}{where}; pass --dir a folder you can write to "
        "(it is made when missing)"
    )
