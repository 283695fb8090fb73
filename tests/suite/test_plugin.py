"""The evidence plugin, run with pytester: statuses, evidence, collection rules, and the xdist merge."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bluum_readiness.suite.paths import plugin_args
from tests.fixtures.plugins import OTHER_PLUGINS_OFF

pytest_plugins = ["pytester"]

STATUSES = '''
import pytest
from bluum_readiness.errors import HarnessError
from bluum_readiness.failures import ConformanceFailure, NotVerifiable


@pytest.mark.checklist("idempotency")
def test_good():
    """A check that passes."""


@pytest.mark.checklist("idempotency")
def test_finding():
    raise ConformanceFailure(checklist_id="idempotency", check="idempotency.x", expected="a key",
                             observed="none", fix="send one", evidence={"exchanges": [{"seq": 1}]})


@pytest.mark.checklist("error-handling")
def test_cannot_tell():
    raise NotVerifiable("the adapter has no request_log()")


@pytest.mark.checklist("error-handling")
def test_plain_skip():
    pytest.skip("not today")


@pytest.mark.checklist("webhooks")
def test_harness_bug():
    raise HarnessError("the twin did not start")


@pytest.mark.checklist("webhooks")
def test_plain_assert():
    assert 1 == 2
'''


def _run(pytester: pytest.Pytester, *args: str, subprocess: bool = False) -> tuple[Any, dict[str, Any]]:
    argv = [*plugin_args(), "-p", "no:cacheprovider", "--readiness-out", "out", *args]
    result = pytester.runpytest_subprocess(*argv, *OTHER_PLUGINS_OFF) if subprocess else pytester.runpytest(*argv)
    path = Path(pytester.path, "out", "readiness.json")
    return result, json.loads(path.read_text()) if path.exists() else {}


def _checks(report: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["status"] for item in report["items"] for c in item["checks"]}


def test_statuses_failed_broken_not_verifiable_and_skipped_are_told_apart(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_statuses=STATUSES)
    result, report = _run(pytester)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert _checks(report) | {} == {
        "idempotency.test_good": "passed",
        "idempotency.test_finding": "failed",
        "error-handling.test_cannot_tell": "not_verifiable",
        "error-handling.test_plain_skip": "skipped",
        "webhooks.test_harness_bug": "broken",
        "webhooks.test_plain_assert": "failed",
    }
    items = {i["id"]: i for i in report["items"]}
    finding = next(c for c in items["idempotency"]["checks"] if c["status"] == "failed")
    assert finding["expected"] == "a key" and finding["observed"] == "none" and finding["fix"] == "send one"
    assert finding["evidence"] == {"exchanges": [{"seq": 1}]}
    assert items["idempotency"]["status"] == "failed" and items["webhooks"]["status"] == "failed"
    assert items["error-handling"]["status"] == "not_verifiable"
    assert "harness error" in next(c for c in items["webhooks"]["checks"] if c["status"] == "broken")["message"]
    assert report["verdict"] == "not_ready" and report["schema_version"] == "3"
    assert {"started", "finished", "suite_version", "target", "integration", "seed"} <= set(report)


def test_the_suites_frames_are_hidden_from_a_findings_traceback_and_kept_for_a_harness_error(
    pytester: pytest.Pytester,
) -> None:
    """``__tracebackhide__ = hidden_for_findings`` (the session, registry, judge and run_check frames): a finding's
    traceback stops at the test function, its message the whole story; a harness error keeps every frame."""
    pytester.makepyfile(
        test_frames="""
import pytest
from bluum_readiness.errors import HarnessError
from bluum_readiness.failures import ConformanceFailure, hidden_for_findings


def machinery(error):
    __tracebackhide__ = hidden_for_findings
    raise error


@pytest.mark.checklist("idempotency")
def test_finding():
    machinery(ConformanceFailure(expected="a key", observed="none"))


@pytest.mark.checklist("webhooks")
def test_harness_bug():
    machinery(HarnessError("the twin did not start"))
"""
    )
    result, _ = _run(pytester)
    finding, harness = result.stdout.str().split("_ test_harness_bug _")
    assert "machinery(ConformanceFailure(" in finding and "raise error" not in finding
    assert "E       bluum_readiness.failures.ConformanceFailure: " in finding
    assert "machinery(HarnessError(" in harness and "raise error" in harness


def test_the_plugin_runs_without_pytest_xdist(pytester: pytest.Pytester) -> None:
    """A team's own ``pytest -p no:xdist``: the listener's xdist hooks are optional, so the run is the same."""
    pytester.makepyfile(test_statuses=STATUSES)
    result, report = _run(pytester, "-p", "no:xdist")
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.TESTS_FAILED and report["verdict"] == "not_ready"
    assert _checks(report)["idempotency.test_finding"] == "failed"


def test_an_unknown_checklist_id_is_a_collection_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("import pytest\n\n@pytest.mark.checklist('idempotncy')\ndef test_x():\n    pass\n")
    result, _ = _run(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown checklist item 'idempotncy'*Did you mean 'idempotency'?*"])


def test_a_selected_item_without_tests_fails_the_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("import pytest\n\n@pytest.mark.checklist('idempotency')\ndef test_x():\n    pass\n")
    result, report = _run(pytester, "--only", "idempotency", "--only", "error-handling")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    items = {i["id"]: i for i in report["items"]}
    assert items["idempotency"]["status"] == "passed"
    assert items["error-handling"]["status"] == "failed"
    assert items["error-handling"]["checks"][0]["id"] == "error-handling.tests-collected"
    assert items["lifecycle"]["status"] == "skipped"
    assert report["verdict"] == "not_ready"


@pytest.mark.parametrize(
    ("option", "was"),
    [
        ("--collect-only", "every item 'failed', NOT READY, exit 1: collected, not run"),
        ("--setup-only", "every check passed, READY: their setup and teardown passed, their bodies never ran"),
        ("--setup-plan", "READY as well, with no fixture even set up"),
        ("--fixtures", "every item 'failed', NOT READY"),
    ],
    ids=["collect-only", "setup-only", "setup-plan", "fixtures"],
)
def test_a_pytest_mode_that_runs_no_test_body_judges_nothing(pytester: pytest.Pytester, option: str, was: str) -> None:
    """Listing the tests (a CI step) or showing their fixtures runs no check: no verdict, no readiness.json, no item
    judged, and pytest's own exit code (``was``: what the plugin said before)."""
    pytester.makepyfile(test_statuses=STATUSES)
    result, report = _run(pytester, option, "--only", "idempotency", "--only", "error-handling")
    out = result.stdout.str()
    assert report == {}, f"no readiness.json for a run that judged nothing (was: {was})"
    assert "verdict" not in out and "READY" not in out, out
    if option == "--collect-only":
        assert result.ret == pytest.ExitCode.OK and "failed" not in out, out
        result.stdout.fnmatch_lines(["*6 tests collected*"])


def test_a_check_whose_body_never_ran_is_not_passed(pytester: pytest.Pytester) -> None:
    """A check passes on its body's outcome only: where a plugin runs a test's setup and teardown and not its body
    (as ``--setup-only`` does), the check is not verifiable, never passed on a setup and a teardown alone."""
    pytester.makeconftest(
        """
import pytest
from _pytest.runner import call_and_report


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    call_and_report(item, "setup", log=True)
    call_and_report(item, "teardown", log=True, nextitem=nextitem)
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True
"""
    )
    pytester.makepyfile(
        "import pytest\n\n@pytest.mark.checklist('idempotency')\ndef test_x():\n    raise AssertionError('ran')\n"
    )
    result, report = _run(pytester, "--only", "idempotency")
    assert _checks(report) == {"idempotency.test_x": "not_verifiable"}, result.stdout.str()
    (check,) = next(item["checks"] for item in report["items"] if item["id"] == "idempotency")
    assert "never ran" in check["reason"], check
    assert report["verdict"] != "ready"


def test_a_check_skipped_or_not_applicable_in_its_setup_keeps_that_status(pytester: pytest.Pytester) -> None:
    """Its body did not run either, but its setup said why: skipped, or not applicable, not "never ran"."""
    pytester.makepyfile(
        """
import pytest
from bluum_readiness.failures import NotApplicable


@pytest.fixture
def skipping():
    pytest.skip("not today")


@pytest.fixture
def unused():
    raise NotApplicable("the team declared no webhooks")


@pytest.mark.checklist("idempotency")
def test_skipped_in_setup(skipping):
    pass


@pytest.mark.checklist("webhooks")
def test_not_applicable_in_setup(unused):
    pass
"""
    )
    _, report = _run(pytester, "--only", "idempotency", "--only", "webhooks")
    statuses = _checks(report)
    assert statuses["idempotency.test_skipped_in_setup"] == "skipped", report
    reasons = [c.get("reason", "") for i in report["items"] for c in i["checks"]]
    assert not [r for r in reasons if "never ran" in r], reasons


def test_an_item_some_of_whose_checks_were_deselected_is_not_passed(pytester: pytest.Pytester) -> None:
    """``-k``, ``-m``, ``--deselect`` or ``--lf`` leave some of an item's checks out: the item did not run in full, so
    it is not passed on the rest (``pytest -k`` picking one check per item at the suite's root said READY); a
    finding among those that ran still fails it."""
    pytester.makepyfile(
        """
import pytest
from bluum_readiness.failures import ConformanceFailure


@pytest.mark.checklist("idempotency")
def test_kept():
    pass


@pytest.mark.checklist("idempotency")
def test_left_out():
    pass


@pytest.mark.checklist("error-handling")
def test_all_of_it():
    pass


@pytest.mark.checklist("webhooks")
def test_webhook_finding():
    raise ConformanceFailure(checklist_id="webhooks", check="webhooks.x", expected="a", observed="b", fix="c")


@pytest.mark.checklist("webhooks")
def test_webhook_left_out():
    pass
"""
    )
    selected = ("--only", "idempotency", "--only", "error-handling", "--only", "webhooks")
    result, report = _run(pytester, *selected, "-k", "not left_out")
    items = {i["id"]: i for i in report["items"]}
    assert items["error-handling"]["status"] == "passed"
    assert items["idempotency"]["status"] == "skipped", items["idempotency"]
    assert "1 of its 2 checks" in items["idempotency"]["note"] and "deselected" in items["idempotency"]["note"]
    assert [c["status"] for c in items["idempotency"]["checks"]] == ["passed"], "what ran is still shown"
    assert items["webhooks"]["status"] == "failed", "a finding stands"
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_checks_a_stopped_run_never_ran_are_not_run_not_missing(pytester: pytest.Pytester) -> None:
    """``-x`` (or ``--maxfail``) stops the run at a finding: the checks collected after it never ran. Their items are
    skipped, "not run", not broken for a test "not collected" (it was), and the finding still fails its item."""
    pytester.makepyfile(
        """
import pytest
from bluum_readiness.failures import ConformanceFailure


@pytest.mark.checklist("idempotency")
def test_finding():
    raise ConformanceFailure(checklist_id="idempotency", check="idempotency.x", expected="a", observed="b", fix="c")


@pytest.mark.checklist("idempotency")
def test_after_it():
    pass


@pytest.mark.checklist("error-handling")
def test_later():
    pass
"""
    )
    result, report = _run(pytester, "--only", "idempotency", "--only", "error-handling", "-x")
    items = {i["id"]: i for i in report["items"]}
    assert items["idempotency"]["status"] == "failed"
    later = items["error-handling"]
    assert later["status"] == "skipped" and "not run" in later["note"] and "stopped" in later["note"], later
    assert not [c for c in later["checks"] if c["id"].endswith(".tests-collected")], later
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_every_checklist_item_has_checks_in_this_version() -> None:
    from bluum_readiness.catalog import items as checklist_items
    from bluum_readiness.checks.registry import registry

    assert {i.id for i in checklist_items()} == {c.item for c in registry}


def test_items_without_checks_are_reported_not_verifiable_and_never_ready_by_themselves() -> None:
    """The rule for a future item that has no checks yet: not_verifiable, listed, and never READY."""
    from bluum_readiness.suite.results import CheckResult, build_report

    covered = ["lifecycle", "idempotency", "error-handling", "webhooks", "smoke-test"]
    results = [CheckResult(nodeid=f"t::{i}", item=i, id=f"{i}.x", title="x") for i in covered]
    every = [*covered, "credentials", "credential-rotation", "observability"]
    report = build_report(results, selected=every, with_checks=covered, metadata={})
    assert report.items_without_checks == ["credentials", "credential-rotation", "observability"]
    items = {i.id: i.status for i in report.items}
    assert items["credentials"] == items["observability"] == "not_verifiable"
    assert report.verdict == "passed" and report.verdict_line.startswith(
        "PASSED, NOT FULLY VERIFIED (4 of 5 readiness items passed; not verified: credentials;"
    )


def test_evidence_recorded_by_the_harness_reaches_the_report(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
import pytest
from bluum_readiness.checks.registry import Check


def tiny(h):
    h.evidence["note"] = "seen"
    h.call("GET", "/assets", params={"limit": 1})


@pytest.mark.checklist("idempotency")
@pytest.mark.parametrize("check", [Check("idempotency.tiny", "idempotency", "A tiny check", tiny)], ids=str)
def test_it(check, run_check, request):
    run_check(check)
""")
    result, report = _run(pytester)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    (check,) = [c for i in report["items"] for c in i["checks"]]
    assert check["id"] == "idempotency.tiny" and check["title"] == "A tiny check"
    assert check["evidence"] == {"seed": 0, "note": "seen"}


def test_xdist_workers_ship_results_to_the_controller(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_statuses=STATUSES)
    _, alone = _run(pytester)
    _, parallel = _run(pytester, "-n", "2", subprocess=True)
    assert _checks(parallel) == _checks(alone)
    assert [(i["id"], i["status"]) for i in parallel["items"]] == [(i["id"], i["status"]) for i in alone["items"]]
    finding = next(c for i in parallel["items"] for c in i["checks"] if c["id"] == "idempotency.test_finding")
    assert finding["evidence"] == {"exchanges": [{"seq": 1}]}


TEXTS = '''
import logging

import pytest
from bluum_readiness.failures import ConformanceFailure


@pytest.mark.checklist("idempotency")
def test_coloured():
    logging.getLogger("acme").error("\\x1b[31mcut \\ud83d")  # captured: the report's log section
    raise ConformanceFailure(checklist_id="idempotency", check="idempotency.x", expected="a key",
                             observed="the call raised Error: \\x1b[31mcut \\ud83d", fix="send one")


@pytest.mark.checklist("idempotency")
def test_good():
    """A check that passes."""
'''


def test_an_xdist_worker_ships_a_finding_whose_text_utf8_cannot_hold(pytester: pytest.Pytester) -> None:
    """Half of an emoji (a lone surrogate) in a finding's text and its captured log: execnet refused to ship the
    report, the worker died and the run with it ("the suite could not run"). Now it is shipped with ``\\ufffd``."""
    pytester.makepyfile(test_texts=TEXTS)
    result, report = _run(pytester, "-n", "2", subprocess=True)
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    assert _checks(report) == {"idempotency.test_coloured": "failed", "idempotency.test_good": "passed"}
    finding = next(c for i in report["items"] for c in i["checks"] if c["id"] == "idempotency.test_coloured")
    assert finding["observed"] == "the call raised Error: \x1b[31mcut \ufffd"
