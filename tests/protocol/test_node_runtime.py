"""The Node starter's protocol runtime (what `bluum-readiness init --lang node` writes), driven for real: the
handshake, errors mapped to the API's status/code or the network failure, stray stdout output kept out of the
protocol, and overlapping requests. Needs Node 18+ (CI installs Debian's nodejs)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from bluum_readiness.cli.main import main
from bluum_readiness.integration import Credentials, IntegrationEnv
from bluum_readiness.protocol import OperationFailed, ProgramFactory, ProgramIntegration
from tests.protocol.conftest import NODE_DIR

PAIR = Credentials("test_bluum_runtime", "r" * 40)
BASE_URL = "http://127.0.0.1:9/v1"  # nothing listens there; these tests send no API request


@pytest.fixture
def probe(node: str) -> Iterator[ProgramIntegration]:
    factory = ProgramFactory(f"{node} {NODE_DIR / 'runtime_probe.mjs'}")
    integration = factory(IntegrationEnv(base_url=BASE_URL, credentials=lambda: PAIR))
    yield integration
    integration.close()


def test_the_handshake_advertises_only_capabilities_that_exist(probe):
    assert probe.name == "runtime-probe"
    assert callable(getattr(probe, "request_log", None))
    assert getattr(probe, "alerts", None) is None  # set true, but the operation is missing: not advertised
    assert getattr(probe, "webhook_url", None) is None
    assert probe.request_log() == []
    probe.stderr.settle()
    assert any("capability alerts is set but operations.alerts is missing" in line for line in probe.stderr.tail(20))


def test_stray_stdout_output_goes_to_the_log_not_into_the_protocol(probe):
    assert probe.kyc_status("inv_1") == "active"
    probe.stderr.settle()
    assert {"a stray console.log", "a stray stdout write"} <= set(probe.stderr.tail(20))


def test_an_api_refusal_carries_status_code_param_and_request_id(probe):
    with pytest.raises(OperationFailed) as caught:
        probe.deposit("inv_1", "fs_1", "10.00")
    failure = caught.value
    assert str(failure) == "insufficient buying power"
    assert (failure.status, failure.code, failure.param, failure.request_id, failure.transport) == (
        422,
        "BLUM-422-001",
        "amount",
        "req_probe",
        None,
    )


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        ("upload_document", ("document already uploaded", 409, "BLUM-409-002", "document", "req_axios", None)),
        ("link_bank_account", ("bad bank", 400, "BLUM-400-001", None, "req_flat", None)),
        ("create_investor", ("timeout of 500ms exceeded", None, None, None, None, "ETIMEDOUT")),
    ],
)
def test_an_axios_error_carries_what_the_api_answered(probe, operation, expected):
    with pytest.raises(OperationFailed) as caught:
        if operation == "upload_document":
            probe.upload_document("inv_1", {"document_type": "passport", "content": b"x"})
        elif operation == "link_bank_account":
            probe.link_bank_account("inv_1", {"type": "manual"})
        else:
            probe.create_investor({})
    failure = caught.value
    observed = (str(failure), failure.status, failure.code, failure.param, failure.request_id, failure.transport)
    assert observed == expected


@pytest.mark.parametrize(("operation", "transport"), [("withdraw", "ECONNREFUSED"), ("get_order", "ETIMEDOUT")])
def test_a_network_failure_is_named(probe, operation, transport):
    with pytest.raises(OperationFailed) as caught:
        if operation == "withdraw":
            probe.withdraw("inv_1", "fs_1", "1.00")
        else:
            probe.get_order("inv_1", "ord_1")
    assert (caught.value.status, caught.value.transport) == (None, transport)


def test_a_slow_request_does_not_hold_up_the_ones_after_it(probe):
    slow: dict[str, object] = {}
    worker = threading.Thread(target=lambda: slow.update(result=probe.place_order("inv_1", {})))
    worker.start()
    time.sleep(0.05)
    started = time.monotonic()
    assert probe.positions("inv_1") == []
    assert time.monotonic() - started < 0.3  # answered while place_order still sleeps (400 ms)
    assert "result" not in slow
    worker.join(5)
    assert slow == {"result": "ord_slow"}


def test_an_operation_the_program_does_not_offer_is_a_method_not_found_error(probe):
    with pytest.raises(OperationFailed) as caught:
        probe.cancel_order("inv_1", "ord_1")
    assert caught.value.rpc_code == -32601 and "no such method: cancel_order" in str(caught.value)


# A client module (or a dependency of it: dotenv, a config loader) that prints a banner to stdout when it loads.
CHATTY_CLIENT = 'console.log("[dotenv@17.2.0] injecting env (3) from .env");\nexport const ready = true;\n'


@pytest.mark.parametrize("layout", ["wired-in-place", "beside-the-starter"])
def test_a_client_that_prints_while_it_loads_goes_to_the_log_not_into_the_protocol(tmp_path, node, layout, capsys):
    assert main(["init", "--lang", "node", "--dir", str(tmp_path)]) == 0  # the starter, as a team gets it
    (tmp_path / "client.mjs").write_text(CHATTY_CLIENT, encoding="utf-8")
    starter = tmp_path / "bluum_adapter.mjs"
    if layout == "wired-in-place":  # loaded as the starter's TODO says: await import(…)
        todo = "// TODO: build your Bluum client here."
        text = starter.read_text(encoding="utf-8")
        assert todo in text and "await import(" in text
        starter.write_text(text.replace(todo, f'const {{ ready }} = await import("./client.mjs");\n{todo}'))
        program, name = starter, "bluum-adapter"
    else:  # an adapter beside the starter that imports it (its runtime) before its client, as the docs' example
        program, name = tmp_path / "acme_adapter.mjs", "acme"
        program.write_text(
            'import { serve } from "./bluum_adapter.mjs";\nimport { ready } from "./client.mjs";\n'
            'serve({ kyc_status: async () => (ready ? "active" : "not ready") }, { name: "acme" });\n',
            encoding="utf-8",
        )
    integration = ProgramFactory(f"{node} {program}")(IntegrationEnv(base_url=BASE_URL, credentials=lambda: PAIR))
    try:
        assert integration.name == name
        integration.stderr.settle()
        assert "[dotenv@17.2.0] injecting env (3) from .env" in integration.stderr.tail(20)
    finally:
        integration.close()
