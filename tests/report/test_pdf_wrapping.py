"""readiness.pdf breaks its text into lines itself (``_Pdf.wrapped``: fpdf2's ``multi_cell`` measures the line again
for every character, most of a report's PDF time); the lines must be the ones ``multi_cell`` would draw (a run of
spaces drawn as one)."""

from __future__ import annotations

from fpdf.enums import MethodReturnValue
from hypothesis import given, settings
from hypothesis import strategies as st

from bluum_readiness.report.pdf import _Pdf

# what latin1() leaves: no NBSP (it becomes a space) — fpdf breaks neither at it nor at a soft hyphen
WORD = st.text(
    st.characters(min_codepoint=33, max_codepoint=255, exclude_characters="\xad\xa0"), min_size=0, max_size=60
)
TEXT = st.lists(st.lists(WORD, min_size=1, max_size=40).map(" ".join), min_size=1, max_size=3).map("\n".join)


def _pdf(size: float) -> _Pdf:
    pdf = _Pdf("footer")
    pdf.add_page()
    pdf.set_font("helvetica", "", size)
    return pdf


@settings(max_examples=60, derandomize=True, database=None, deadline=None)
@given(text=TEXT, size=st.sampled_from([7.5, 9.5, 15.0]), indent=st.sampled_from([0.0, 22.0, 30.0]))
def test_the_lines_are_multi_cells(text: str, size: float, indent: float) -> None:
    pdf = _pdf(size)
    left = pdf.l_margin + indent
    room = pdf.w - pdf.r_margin - left - 2 * pdf.c_margin
    ours = pdf.lines(text, room)
    pdf.set_x(left)
    single_spaced = "\n".join(" ".join(filter(None, paragraph.split(" "))) for paragraph in text.split("\n"))
    theirs = pdf.multi_cell(0, 4, single_spaced, dry_run=True, output=MethodReturnValue.LINES)
    assert ours == theirs


def test_a_long_paragraph_is_drawn_line_by_line_from_where_it_starts() -> None:
    pdf = _pdf(9.5)
    pdf.set_x(pdf.l_margin + 22)
    top = pdf.get_y()
    pdf.wrapped("word " * 80, 4.6)
    lines = pdf.lines("word " * 80, pdf.w - pdf.r_margin - pdf.l_margin - 22 - 2 * pdf.c_margin)
    assert len(lines) > 2 and round(pdf.get_y() - top, 3) == round(4.6 * len(lines), 3)
    assert pdf.get_x() == pdf.l_margin
