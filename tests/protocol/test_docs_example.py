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
