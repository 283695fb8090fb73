"""The complete example of docs/adapter-protocol.md works as printed: beside the starter `init --lang node`
writes, it starts, shakes hands and drives the twin (create an investor, read its status, deposit with a key)."""

from __future__ import annotations

import re
from pathlib import Path

from bluum_readiness.cli.main import main
from bluum_readiness.protocol import ProgramFactory
from bluum_readiness.suite.session import SuiteSession
from bluum_readiness.testing import investor_profile

DOC = Path(__file__).resolve().parents[2] / "docs" / "adapter-protocol.md"


def test_the_documented_node_adapter_runs_against_the_twin(tmp_path: Path, node: str, capsys) -> None:
    [example] = re.findall(r"```js\n(// acme_adapter\.mjs.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert main(["init", "--lang", "node", "--dir", str(tmp_path)]) == 0
    (tmp_path / "acme_adapter.mjs").write_text(example, encoding="utf-8")
    session = SuiteSession.embedded("bluum_readiness.reference:create_fast")
    try:
        session.factory = ProgramFactory(f"{node} {tmp_path / 'acme_adapter.mjs'}")
        with session.harness() as h:
            integration = h.integration()
            assert integration.name == "acme-bluum"
            investor = integration.create_investor(investor_profile())
            assert investor.startswith("inv_")
            # KYC auto-approves "within a moment": either side of that moment is right.
            assert integration.kyc_status(investor) in ("onboarding", "active")
            funded, bank = h.funded_investor()
            mark = h.mark()
            assert integration.deposit(funded, bank, "5.00", "ach").startswith("dep_")
            [sent] = h.exchanges_since(mark, method="POST")
            assert sent.idempotency_key and sent.status == 201
            integration.stderr.settle()
            assert any('"msg":"bluum request"' in line for line in integration.stderr.tail(10))
    finally:
        session.close()


# A client as teams have them: it prints a banner and reads its own variable names when it loads (CommonJS).
WRAPPED_CLIENT = """console.log("[dotenv@17.2.0] injecting env (3) from .env");
if (!process.env.BLUUM_SECRET_KEY) throw new Error("BLUUM_SECRET_KEY is not set");
class AcmeBluum {
  constructor(options) { this.options = options; }
  investors = { get: async () => ({ status: process.env.ACME_BLUUM_URL ? "active" : "no base URL" }) };
}
module.exports = { AcmeBluum };
"""


def test_the_documented_wrapper_maps_names_before_its_client_loads_and_runs_as_commonjs(tmp_path, node, capsys):
    """The "wrapping an existing client" example as printed (its syntax is plain JavaScript too), run as CommonJS —
    what tsx does with a .ts file in a package without "type": "module" — beside the starter, with a client that
    needs BLUUM_SECRET_KEY at load and prints a banner: it starts, the client found its names, the banner is in the
    log, not in the protocol."""
    from bluum_readiness.integration import Credentials, IntegrationEnv

    [example] = re.findall(r"```ts\n(// acme_adapter\.ts.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert "node --import tsx" in example and "npx" not in example
    assert main(["init", "--lang", "node", "--dir", str(tmp_path)]) == 0
    (tmp_path / "acme_adapter.cjs").write_text(example, encoding="utf-8")
    (tmp_path / "src" / "bluum").mkdir(parents=True)
    (tmp_path / "src" / "bluum" / "client").write_text(WRAPPED_CLIENT, encoding="utf-8")  # resolved as tsx would
    env = IntegrationEnv(base_url="http://127.0.0.1:9/v1", credentials=lambda: Credentials("test_bluum_k", "s" * 40))
    integration = ProgramFactory(f"{node} {tmp_path / 'acme_adapter.cjs'}")(env)
    try:
        assert integration.name == "acme-bluum"
        assert integration.kyc_status("inv_1") == "active"
        integration.stderr.settle()
        assert "[dotenv@17.2.0] injecting env (3) from .env" in integration.stderr.tail(20)
    finally:
        integration.close()


def test_the_documented_way_to_use_the_go_and_java_examples_is_the_starters_own():
    from tests.protocol import starters

    text = DOC.read_text(encoding="utf-8")
    for lang in ("go", "java"):
        assert f"`{starters.example_line(lang)}`" in text, lang
