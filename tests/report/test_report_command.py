"""``bluum-readiness report``: --verify's exit codes and messages, and re-rendering from the JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from bluum_readiness.cli.main import main
from bluum_readiness.config import CompanyConfig
from bluum_readiness.report.render import render_all
from tests.report.conftest import COMPANY, find_check

COMPANY_TOML = """[company]
name = "Acme Invest"
dashboard_email = "ops@acme.example"
product_description = "Robo-advisor app for US retail investors — goals-based portfolios"
integration_model = "server-to-server, one Bluum investor per end customer"
"""


def test_verify_an_intact_report_exits_0(not_ready_json: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--verify", str(not_ready_json)]) == 0
    assert "intact" in capsys.readouterr().out


def test_verify_a_tampered_evidence_field_exits_1_and_says_so(
    not_ready_json: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = json.loads(not_ready_json.read_text())
    exchange = find_check(document, "error-handling.429-jitter")["evidence"]["exchanges"][0]
    exchange["request_id"] = "req_forged"
    not_ready_json.write_text(json.dumps(document, indent=2))
    assert main(["report", "--verify", str(not_ready_json)]) == 1
    err = capsys.readouterr().err
    assert "ALTERED" in err and "does not match its digest" in err and "Traceback" not in err


@pytest.mark.parametrize("content", ['{"hello": 1}', "not json at all", '{"schema_version": "1", "items": 3}'])
def test_verify_a_file_that_is_not_a_report_exits_2(
    tmp_path: Path, content: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "other.json"
    path.write_text(content)
    assert main(["report", "--verify", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("bluum-readiness: error: ") and len(err.strip().splitlines()) == 1


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_re_rendering_from_the_json_gives_the_same_files(
    not_ready_json: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    first = render_all(json.loads(not_ready_json.read_text()), not_ready_json.parent, COMPANY)
    assert first.email_skipped is None
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bluum-readiness.toml").write_text(COMPANY_TOML, encoding="utf-8")
    again = tmp_path / "again"
    assert main(["report", str(not_ready_json), "--out", str(again)]) == 0
    printed = capsys.readouterr().out
    assert f"readiness.pdf: {again / 'readiness.pdf'}" in printed
    before = {k: v for k, v in _tree(not_ready_json.parent).items() if k != "readiness.json"}
    after = _tree(again)
    expected = {"readiness.html", "readiness.pdf", "readiness.md", "junit.xml", "email.eml", "email.txt"}
    assert expected <= set(after) and any(k.startswith("allure-results/") for k in after)
    assert before == after


def test_report_without_company_details_writes_the_rest_and_names_the_missing_keys(
    not_ready_json: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bluum-readiness.toml").write_text('[company]\nname = "Acme Invest"\n', encoding="utf-8")
    (not_ready_json.parent / "email.eml").write_text("stale")  # from an earlier render: must not survive
    assert main(["report", str(not_ready_json)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "[company] is missing dashboard_email, product_description, integration_model." in err
    assert "bluum-readiness.toml" in err and f"bluum-readiness report {not_ready_json}" in err
    assert (not_ready_json.parent / "readiness.pdf").exists() and not (not_ready_json.parent / "email.eml").exists()


def test_a_tampered_report_is_not_re_rendered(not_ready_json: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = json.loads(not_ready_json.read_text())
    document["verdict"] = "ready"
    not_ready_json.write_text(json.dumps(document))
    assert main(["report", str(not_ready_json)]) == 2
    assert "altered" in capsys.readouterr().err
    assert not (not_ready_json.parent / "readiness.html").exists()


def test_render_all_without_company_skips_only_the_email(ready_json: Path) -> None:
    done = render_all(json.loads(ready_json.read_text()), ready_json.parent, CompanyConfig())
    assert done.email_skipped and "name, dashboard_email, product_description, integration_model" in done.email_skipped
    assert {p.name for p in done.files} == {
        "readiness.html", "readiness.pdf", "readiness.md", "junit.xml", "allure-results"
    }  # fmt: skip


def test_an_out_that_cannot_be_written_is_one_line_and_exit_2(
    not_ready_json: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "taken").write_text("a file")
    assert main(["report", str(not_ready_json), "--out", str(tmp_path / "taken")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"--out {tmp_path / 'taken'} is a file, not a folder" in err


def test_a_folder_in_the_way_of_a_report_file_is_one_line_and_exit_2(
    not_ready_json: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "out" / "readiness.pdf").mkdir(parents=True)
    assert main(["report", str(not_ready_json), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "holds a folder named readiness.pdf" in err, err


@pytest.mark.parametrize("first", ["not_ready", "ready"])
@pytest.mark.parametrize("verify", [True, False], ids=["verify", "render"])
def test_a_key_given_twice_is_not_a_report(
    not_ready_json: Path, capsys: pytest.CaptureFixture[str], first: str, verify: bool
) -> None:
    """Python keeps the last copy of a duplicated key, other readers the first: a file whose two `verdict`s differ
    would verify as intact while another tool shows the other verdict. No run writes a key twice."""
    text = not_ready_json.read_text()
    assert text.count('"verdict": "not_ready"') == 1
    not_ready_json.write_text(text.replace('"verdict": "not_ready"', f'"verdict": "{first}", "verdict": "not_ready"'))
    argv = ["report", "--verify", str(not_ready_json)] if verify else ["report", str(not_ready_json)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "not a readiness report" in err and "'verdict' appears twice" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("[" * 100_000 + "]" * 100_000, "nests too deeply"),
        # Python 3.13 reads 5,000 levels (3.11's and 3.12's parser stops at its recursion limit): the document then
        # fails the schema instead, in one line too
        (
            '{"schema_version": "2", "items": [], "x": ' + "[" * 5000 + "]" * 5000 + "}",
            "nests too deeply" if sys.version_info < (3, 13) else "'verdict_line' is a required property",
        ),
        ('{"schema_version": "2", "items": [], "x": ' + "9" * 5000 + "}", "more than 4,300 digits"),
    ],
    ids=["deep array", "deep inside", "5000 digits"],
)
@pytest.mark.parametrize("verify", [True, False], ids=["verify", "render"])
def test_json_no_run_writes_is_not_a_report_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, why: str, verify: bool
) -> None:
    path = tmp_path / "readiness.json"
    path.write_text(content)
    argv = ["report", "--verify", str(path)] if verify else ["report", str(path)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert why in err and ("not a readiness report" in err or "does not match the report schema" in err), err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_an_out_name_too_long_is_one_line(not_ready_json: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(not_ready_json), "--out", str(not_ready_json.parent / ("x" * 300))]) == 2
    err = capsys.readouterr().err
    assert "File name too long" in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize("delivery", [None, {"label": "latency", "status": 200, "latency_ms": [1]}])
def test_evidence_of_a_shape_no_run_writes_is_one_line_not_a_traceback(
    not_ready_json: Path, capsys: pytest.CaptureFixture[str], delivery: object
) -> None:
    """The schema leaves a check's own evidence open; the digest is no signature (it can be recomputed after an
    edit): a hand-made report whose evidence the renderers cannot read is one line and exit 2 (found by the fuzz)."""
    from bluum_readiness.report.digest import recompute

    document = json.loads(not_ready_json.read_text())
    find_check(document, "webhooks.fast-ack")["evidence"]["deliveries"][0] = delivery
    document["digest"]["value"] = recompute(document)
    not_ready_json.write_text(json.dumps(document))
    assert main(["report", str(not_ready_json), "--out", str(not_ready_json.parent / "out")]) == 2
    err = capsys.readouterr().err
    assert "rendering" in err and "is not what a run of this version writes" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize("verify", [True, False], ids=["verify", "render"])
def test_a_fifo_is_not_a_report_and_does_not_block(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], verify: bool
) -> None:
    import os

    fifo = tmp_path / "readiness.json"
    os.mkfifo(fifo)
    assert main(["report", "--verify", str(fifo)] if verify else ["report", str(tmp_path)]) == 2
    assert "is not a regular file" in capsys.readouterr().err
