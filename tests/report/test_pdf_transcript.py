"""The PDF's exchange transcript: a hand-laid table of Courier lines (fpdf2's table() cost ~0.8 s a run)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pypdf
from hypothesis import given
from hypothesis import strategies as st

from bluum_readiness.report.pdf import (
    _COURIER_EM,
    _PAD_MM,
    TRANSCRIPT_FONT_PT,
    _Pdf,
    _transcript,
    _wrap_cell,
    render_pdf,
)


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


def test_a_transcript_that_starts_at_the_foot_of_a_page_moves_whole_to_the_next(ready_json: Path) -> None:
    """Wherever a transcript starts, its heading and first row stay together and no page holds less than a row: a
    heading that started too low for a row under it was drawn one cell per page (seven pages of one word each, in
    a READY run's PDF)."""
    document = json.loads(ready_json.read_text())
    check = next(c for item in document["items"] for c in item["checks"] if c["status"] == "passed")
    check["evidence"] = {
        "exchanges": [
            {"seq": n, "method": "GET", "path": "/v1/investors/inv_01synthetic", "status": 200,
             "request_id": f"req_row_{n:04d}", "duration_ms": 1.0} for n in range(1, 4)
        ]
    }  # fmt: skip
    for tenths_mm in range(0, 140, 3):  # the heading's top from 14 mm above the page break to the break itself
        pdf = _Pdf("footer")
        pdf.add_page()
        pdf.set_y(pdf.page_break_trigger - tenths_mm / 10)
        _transcript(pdf, check)
        reader = pypdf.PdfReader(io.BytesIO(bytes(pdf.output())))
        pages = [page.extract_text() for page in reader.pages]
        where = f"starting {tenths_mm / 10} mm above the break"
        assert len(pages) <= 2, where
        assert all(f"req_row_{n:04d}" in "".join(pages) for n in (1, 2, 3)), where
        first = next(page for page in pages if "X-Request-Id" in page)
        assert "req_row_0001" in first, where  # the heading is never alone at a page's foot
        assert all("X-Request-Id" in page for page in pages if "req_row_" in page), where
