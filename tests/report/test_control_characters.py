"""Texts from the integration hold control characters and lone surrogates (a coloured error message, half of an emoji):
readiness.json keeps the characters (JSON escapes them), every file rendered from it and the console show each one
as a visible stand-in, and no file the run writes is lost to a text UTF-8 cannot hold."""

from __future__ import annotations

import json
import os
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bluum_readiness.cli.main import main
from bluum_readiness.report.printable import shown, shown_data, well_formed

ESC = "\x1b"


def test_a_colour_code_reads_as_its_control_picture() -> None:
    assert shown("\x1b[31mred\x1b[0m") == "␛[31mred␛[0m"
    assert shown("a\x00b\x07c\x7fd\x85e") == "a␀b␇c␡d\ufffde"
    assert shown("two\r\nlines\tand a tab\rhere") == "two\nlines\tand a tab␍here"
    assert shown("half an emoji \ud83d, a whole one \U0001f4a5") == "half an emoji \ufffd, a whole one \U0001f4a5"
    assert shown_data({"k\x1b": ["\x1b", ("\x00", 3)], "n": None}) == {"k␛": ["␛", ("␀", 3)], "n": None}


@given(st.text())
def test_every_text_shown_is_valid_xml_and_utf8_and_loses_no_printable_character(text: str) -> None:
    element = ET.Element("failure", message=shown(text))
    element.text = shown(text)
    parsed = ET.fromstring(ET.tostring(element, encoding="utf-8"))
    assert (parsed.text or "") == shown(text) and parsed.get("message") is not None
    assert not [c for c in shown(text) if unicodedata.category(c) in ("Cc", "Cs") and c not in "\n\t"]
    if text.isprintable():
        assert shown(text) == text
    assert len(shown(text)) == len(text.replace("\r\n", "\n"))  # nothing removed: no two parts are ever joined


@given(st.text())
def test_a_well_formed_text_is_writable_as_utf8(text: str) -> None:
    well_formed(text).encode("utf-8")  # raises on a lone surrogate
    if not any("\ud800" <= c <= "\udfff" for c in text):
        assert well_formed(text) == text


def test_a_run_of_an_integration_with_coloured_errors_shows_them_everywhere_and_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """Before: junit.xml was invalid XML (a CI gate could not read it), the console sent the colour codes to the
    terminal (a message cut after ``\\x1b[31m`` left it red), and the lone surrogate lost the record (readiness.json
    could not be written) and broke secret-never-logged."""
    for name in [k for k in os.environ if k.startswith(("BLUUM_", "PYTEST_XDIST", "PYTEST_ADDOPTS"))]:
        monkeypatch.delenv(name)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.chdir(tmp_path)
    code = main(["run", "--integration", "tests.integrations.variants:coloured_errors", "--only", "error-handling",
                 "--out", "out"])  # fmt: skip
    console = "".join(capfd.readouterr())
    assert code == 1, console  # not ready (no retries), not "the suite could not run"
    out = tmp_path / "out"
    record = json.loads((out / "readiness.json").read_text(encoding="utf-8"))
    checks = {c["id"]: c for item in record["items"] for c in item["checks"]}
    assert not [c for c in checks.values() if c["status"] == "broken"], console
    observed = checks["error-handling.5xx-retried"]["observed"]
    assert f"{ESC}[31m" in observed and f"{ESC}[0m \ufffd (request req_" in observed  # as it was, but writable
    ET.parse(out / "junit.xml")  # valid XML
    for name in ("junit.xml", "readiness.md", "readiness.html"):
        shown_text = (out / name).read_text(encoding="utf-8")
        assert ESC not in shown_text and "␛[31m" in shown_text.replace("\\[", "["), name  # Markdown escapes [
    assert (out / "pytest.log").read_text(encoding="utf-8"), "pytest's own log is written too"
    assert ESC not in console and "␛[31m" in console
