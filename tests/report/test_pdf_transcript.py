"""The PDF's exchange transcript: a hand-laid table of Courier lines (fpdf2's table() cost ~0.8 s a run)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pypdf
from hypothesis import given
from hypothesis import strategies as st

from bluum_readiness.report.pdf import _COURIER_EM, _PAD_MM, TRANSCRIPT_FONT_PT, _wrap_cell, render_pdf


def _fits(line: str, width_mm: float) -> bool:
    return len(line) * TRANSCRIPT_FONT_PT * _COURIER_EM * 25.4 / 72 <= width_mm - 2 * _PAD_MM


@given(st.text(alphabet="abcdefghij0123456789/_-?&= ", max_size=200), st.sampled_from([8, 10, 12, 32, 44, 62]))
def test_a_cell_keeps_every_character_and_each_line_fits_its_column(text: str, width: float) -> None:
    lines = _wrap_cell(text, width)
    assert "".join(lines) == text
    assert all(_fits(line, width) for line in lines)


def test_a_long_path_breaks_after_a_slash() -> None:
    path = "/v1/investors/inv_01m95wm023gfkmj8qfq3b7d44d/withdrawals/wd_01m95wm023gfkmj8qfq3b7d44d"
    lines = _wrap_cell(path, 62)
    assert len(lines) > 1
    assert all(line.endswith("/") for line in lines[:-1])


def test_a_transcript_longer_than_a_page_repeats_its_heading(ready_json: Path) -> None:
    ready_document = json.loads(ready_json.read_text())
    check = next(c for item in ready_document["items"] for c in item["checks"] if c["status"] == "passed")
    exchange = {"seq": 1, "method": "GET", "path": "/v1/investors/inv_01synthetic", "status": 200,
                "request_id": "req_synthetic_long", "duration_ms": 1.0}  # fmt: skip
    check["status"], check["observed"] = "failed", "many exchanges"
    check["evidence"] = {"exchanges": [{**exchange, "seq": n, "request_id": f"req_row_{n:04d}"} for n in range(1, 31)]}
    reader = pypdf.PdfReader(io.BytesIO(render_pdf(ready_document)))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert all(f"req_row_{n:04d}" in text for n in range(1, 31))  # MAX_ROWS rows of a finding, none lost
    pages_with_rows = [p.extract_text() for p in reader.pages if "req_row_" in p.extract_text()]
    assert all("X-Request-Id" in page for page in pages_with_rows)
