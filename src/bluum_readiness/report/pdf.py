"""readiness.pdf: the report to attach to the production-access email, laid out with fpdf2 (pure Python).

Title page (verdict, environment, run, digest, the checklist at a glance), then one section per item: each check
with its status and evidence reference, and for each finding expected / observed / fix and the exchange
transcript; then the charts (the same SVG as the HTML). fpdf2's core fonts are Latin-1 only, so text goes
through ``latin1`` (typographic punctuation and arrows become ASCII, anything else outside Latin-1 becomes
``?``): no font file is needed, so a fresh ``pip install`` writes the PDF too.
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from typing import Any

from fpdf import FPDF, XPos, YPos
from fpdf.fonts import FontFace

from bluum_readiness.catalog import items as checklist_items
from bluum_readiness.report import charts, model, phases, provenance

__all__ = ["latin1", "render_pdf", "write_pdf"]

MAX_ROWS = 30  # transcript rows per finding; the rest stay in readiness.json
MAX_ROWS_PASSED = 8  # a passed check's first exchanges: request ids Bluum can match in its logs
_ASCII = str.maketrans(
    {
        "—": "-", "–": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "→": "->", "←": "<-", "≥": ">=", "≤": "<=",
        "…": "...", "·": "-", "•": "-", "✓": "v", "✗": "x", "×": "x", "≈": "~", "‑": "-", "\u00a0": " ",
        "²": "2", "⁰": "0", "\u00ad": "",
    }
)  # fmt: skip
_COLOUR = {
    "passed": (21, 128, 61),
    "failed": (185, 28, 28),
    "broken": (126, 34, 206),
    "not_verifiable": (161, 98, 7),
    "skipped": (107, 114, 128),
    "not_applicable": (107, 114, 128),
}
_VERDICT_COLOUR = {
    "ready": (21, 128, 61),
    "passed": (161, 98, 7),
    "not_ready": (185, 28, 28),
    "interrupted": (107, 114, 128),
}
_FILL = {
    "ready": (220, 252, 231),
    "passed": (254, 249, 195),
    "not_ready": (254, 226, 226),
    "interrupted": (243, 244, 246),
}
INK = (17, 24, 39)
MUTED = (107, 114, 128)


def latin1(text: Any) -> str:
    """``text`` in the core fonts' Latin-1: punctuation mapped to ASCII, anything else unknown as ``?``."""
    return str(text).translate(_ASCII).encode("latin-1", "replace").decode("latin-1")


class _Pdf(FPDF):
    def __init__(self, footer_text: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.footer_text = footer_text
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(auto=True, margin=16)

    def footer(self) -> None:
        self.set_y(-11)
        self.set_font("helvetica", size=7.5)
        self.set_text_color(*MUTED)
        self.cell(0, 5, latin1(self.footer_text), align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, f"page {self.page_no()}/{{nb}}", align="R")

    def wrapped(self, text: str, height: float) -> None:
        """``text`` (Latin-1) left-aligned from the current x to the right margin, one ``cell`` per line of
        ``height``, broken at spaces (a word wider than the line anywhere; a run of spaces is one), each line starting
        at that x; then the left margin of the next line. What ``multi_cell(0, height, text, align="L")`` draws,
        measured once per word: fpdf2's ``multi_cell`` measures the line again for every character it adds
        (quadratic in the line's length), which was ~70 % of a full run's PDF."""
        left = self.get_x()
        width = self.w - self.r_margin - left
        for line in self.lines(text, width - 2 * self.c_margin):
            self.set_x(left)
            self.cell(width, height, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def lines(self, text: str, room: float) -> list[str]:
        """The lines ``wrapped`` draws of ``text`` in the current font, each at most ``room`` wide."""
        paragraphs = [[word for word in paragraph.split(" ") if word] for paragraph in text.split("\n")]
        if len(paragraphs) > 1 and not paragraphs[-1]:
            paragraphs.pop()  # a closing newline ends the last line; it starts none
        return [line for words in paragraphs for line in self._broken(words, room)]

    def _broken(self, words: list[str], room: float) -> list[str]:
        lines: list[str] = []
        line, line_width = "", 0.0
        space = self.get_string_width(" ")
        for word in words:
            width = self.get_string_width(word)
            if line and line_width + space + width > room:
                lines.append(line)
                line, line_width = "", 0.0
            while width > room:  # longer than a line (so alone on it): as many characters as fit, then the rest
                taken, taken_width = 0, 0.0
                for character in word:  # each measured once
                    taken_width += self.get_string_width(character)
                    if taken_width > room:
                        break
                    taken += 1
                taken = max(taken, 1)
                lines.append(word[:taken])
                word = word[taken:]
                width = self.get_string_width(word)
            if not word:
                continue
            line, line_width = (f"{line} {word}", line_width + space + width) if line else (word, width)
        lines.append(line)
        return lines

    def heading(self, text: str, size: float = 15, colour: tuple[int, int, int] = INK) -> None:
        self.set_font("helvetica", "B", size)
        self.set_text_color(*colour)
        self.wrapped(latin1(text), size * 0.5)
        self.ln(1.5)

    def para(self, text: str, size: float = 9.5, colour: tuple[int, int, int] = INK, style: str = "") -> None:
        self.set_font("helvetica", style, size)
        self.set_text_color(*colour)
        self.wrapped(latin1(text), size * 0.48)

    def labelled(self, label: str, text: str, colour: tuple[int, int, int] = INK) -> None:
        self.set_font("helvetica", "B", 9.5)
        self.set_text_color(*colour)
        self.cell(22, 4.6, latin1(label))
        self.set_font("helvetica", "", 9.5)
        self.set_text_color(*INK)
        self.wrapped(latin1(text), 4.6)
        self.ln(0.6)

    def status_word(self, status: str, size: float = 9, label: str | None = None) -> None:
        self.set_font("helvetica", "B", size)
        self.set_text_color(*_COLOUR.get(status, INK))
        self.cell(30 if label is None else 42, size * 0.5, label or model.STATUS_LABELS.get(status, status))
        self.set_text_color(*INK)


def _title_page(pdf: _Pdf, document: dict[str, Any], company_name: str | None) -> None:
    pdf.add_page()
    pdf.heading("Bluum production readiness", 22)
    if company_name:
        pdf.heading(company_name, 14, MUTED)
    verdict = model.verdict(document)
    pdf.ln(2)
    pdf.set_fill_color(*_FILL[verdict])
    pdf.set_draw_color(*_VERDICT_COLOUR[verdict])
    pdf.set_font("helvetica", "B", 26)
    pdf.set_text_color(*_VERDICT_COLOUR[verdict])
    pdf.cell(0, 18, model.verdict_word(document), border=1, fill=True, align="C",
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)  # fmt: skip
    pdf.set_fill_color(255, 255, 255)
    pdf.set_draw_color(209, 213, 219)
    from bluum_readiness.report.html import verdict_sentence

    pdf.ln(2)
    pdf.para(verdict_sentence(document), 10)
    assessed = provenance.request(document)
    if assessed.send_ready:
        pdf.para("Production-access request: ready to send.", 9.5)
    elif provenance.is_demonstration(document):
        pdf.para(f"Production-access request: none - this run checked {provenance.DEMONSTRATION}.", 9.5)
    else:
        pdf.para("Production-access request: a DRAFT, not to be sent yet: " + "; ".join(assessed.missing), 9.5)
    pdf.ln(3)
    integration = document["integration"]
    if provenance.is_demonstration(document):
        integration += f" - {provenance.DEMONSTRATION}"
    rows = [
        ("Environment", model.environment_label(document)),
        ("Target host", document["target"]["host"]),
        ("Integration", integration),
        *[
            ("Combined run", f"{r['target']} - {r['verdict']} - sha256:{str(r['digest'])[:16]}")
            for r in document.get("combined") or []
        ],
        ("Run", f"{document['started']} -> {document['finished']} ({document.get('duration_s', 0):.1f} s)"),
        ("Seed", str(document["seed"])),
        ("Suite", f"bluum-readiness {document['suite_version']}"),
        ("Checks", ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in document["counts"].items() if n)),
        ("Evidence digest", model.short_digest(document)),
    ]
    pdf.set_font("helvetica", size=9)
    pdf.set_text_color(*INK)
    with pdf.table(col_widths=(35, 145), first_row_as_headings=False, line_height=5,
                   borders_layout="HORIZONTAL_LINES", text_align="LEFT") as table:  # fmt: skip
        for label, value in rows:
            row = table.row()
            row.cell(latin1(label), style=FontFace(emphasis="BOLD"))
            row.cell(latin1(value))
    pdf.ln(5)
    pdf.heading("The checklist at a glance", 12)
    heading_style = FontFace(emphasis="BOLD", fill_color=(243, 244, 246))
    for phase in phases.phases(document):
        pdf.para(f"{phase.title} - {phase.line}", 9, INK, "B")
        pdf.set_font("helvetica", size=8.5)
        with pdf.table(col_widths=(50, 26, 14, 45, 45), line_height=4.6, headings_style=heading_style,
                       text_align="LEFT", borders_layout="HORIZONTAL_LINES") as table:  # fmt: skip
            head = table.row()
            for text in ("Item", "Status", "Checks", "Proven", "Why"):
                head.cell(text)
            for item in phase.items:
                passed = sum(1 for c in item["checks"] if c["status"] == "passed")
                row = table.row()
                row.cell(latin1(f"{item['title']} ({item['id']})"))
                row.cell(
                    phases.status_label(document, item),
                    style=FontFace(emphasis="BOLD", color=_COLOUR[item["status"]]),
                )
                row.cell(f"{passed}/{len(item['checks'])}")
                row.cell(latin1(provenance.where(document, item)))
                row.cell(latin1(item.get("reason", "")))
        pdf.ln(2)
    pdf.ln(3)
    pdf.para(
        "Every finding below names what was expected, what was observed, how to fix it, and the HTTP exchanges "
        "(method, path, status, X-Request-Id, time) it rests on. The complete evidence is in readiness.json; "
        "`bluum-readiness report --verify readiness.json` checks it against the digest above.",
        8.5,
        MUTED,
    )


TRANSCRIPT_COLUMNS = (("#", 8), ("method", 12), ("path", 62), ("status", 12), ("X-Request-Id", 44), ("ms", 10),
                      ("fault / note", 32))  # fmt: skip
"""The transcript table's columns and their widths in mm (180 mm: the page between the margins)."""
TRANSCRIPT_FONT_PT = 6.5
TRANSCRIPT_LINE_MM = 3.3
_PAD_MM = 1.0  # each cell's left padding
_COURIER_EM = 0.6  # Courier's advance width, in ems, of every glyph
_BREAKS = ("/", "?&", " ", "_-")  # where a long cell breaks, best first
_BASELINE = 0.3  # fpdf2's ``cell`` sets a line's baseline this many font sizes below its middle


def _wrap_cell(text: str, width_mm: float) -> list[str]:
    """``text`` cut into lines that fit ``width_mm`` in the transcript's Courier: every glyph is as wide as the
    next, so the lines are counted in characters (breaking after a ``/``, else ``?`` or ``&``, else a space, else ``_``
    or ``-``, past the first quarter of a line, else mid-word)."""
    per_line = max(1, int((width_mm - 2 * _PAD_MM) / (TRANSCRIPT_FONT_PT * _COURIER_EM * 25.4 / 72)))
    lines: list[str] = []
    rest = text
    while len(rest) > per_line:
        cut = next((at for group in _BREAKS if (at := max(rest.rfind(c, per_line // 4, per_line) for c in group)) > 0),
                   per_line - 1)  # fmt: skip
        cut += 1
        lines.append(rest[:cut])
        rest = rest[cut:]
    lines.append(rest)
    return lines


def _transcript(pdf: _Pdf, check: dict[str, Any], most: int = MAX_ROWS) -> None:
    """The exchanges a check rests on, as a table. Laid out by hand (Courier is monospaced, so a cell's lines are
    counted in characters) and drawn with ``text`` where ``cell`` would put it: fpdf2's ``table()`` measures every
    cell with ``multi_cell``, which cost ~0.8 s for a full run's 44 transcripts, and ``cell`` costs ~7 times what
    ``text`` does (it lays out a line; these are laid out already)."""
    rows = model.exchange_rows(check)
    if not rows:
        return
    pdf.ln(1)
    head = [name for name, _ in TRANSCRIPT_COLUMNS]
    body = [
        [latin1("" if v is None else v) for v in (x["seq"], x["method"], x["path"], x["status"], x["request_id"],
                                                  x["ms"], " ".join(p for p in (x["fault"], x["note"]) if p))]
        for x in rows[:most]
    ]  # fmt: skip
    if pdf.will_page_break(_row_height(head) + _row_height(body[0])):
        pdf.add_page()  # the heading never ends a page without a row under it
    _table_row(pdf, head, heading=True)
    for values in body:
        _table_row(pdf, values, repeat_on_break=head)
    if len(rows) > most:
        pdf.para(f"... and {len(rows) - most} more exchanges in readiness.json", 7.5, MUTED)


def _cells(values: list[str]) -> list[list[str]]:
    return [_wrap_cell(v, w) for v, (_, w) in zip(values, TRANSCRIPT_COLUMNS, strict=True)]


def _row_height(values: list[str]) -> float:
    return max(len(lines) for lines in _cells(values)) * TRANSCRIPT_LINE_MM


def _table_row(pdf: _Pdf, values: list[str], heading: bool = False, repeat_on_break: list[str] | None = None) -> None:
    """One row, its cells' lines side by side; a row that would cross the page's end starts a new page (with the
    heading row ``repeat_on_break`` again)."""
    cells = _cells(values)
    height = max(len(lines) for lines in cells) * TRANSCRIPT_LINE_MM
    if repeat_on_break is not None and pdf.will_page_break(height):
        pdf.add_page()
        _table_row(pdf, repeat_on_break, heading=True)
    left, top = pdf.l_margin, pdf.get_y()
    width = sum(w for _, w in TRANSCRIPT_COLUMNS)
    if heading:
        pdf.set_fill_color(243, 244, 246)
        pdf.rect(left, top, width, height, style="F")
        pdf.set_draw_color(*MUTED)
        pdf.set_line_width(0.2)
        pdf.line(left, top + height, left + width, top + height)
    pdf.set_font("courier", "B" if heading else "", TRANSCRIPT_FONT_PT)
    pdf.set_text_color(*INK)
    x = left + _PAD_MM + pdf.c_margin
    baseline = top + TRANSCRIPT_LINE_MM / 2 + _BASELINE * pdf.font_size  # where ``cell`` puts it in a line
    for lines, (_, w) in zip(cells, TRANSCRIPT_COLUMNS, strict=True):
        for n, line in enumerate(lines):
            if line:
                pdf.text(x, baseline + n * TRANSCRIPT_LINE_MM, line)
        x += w
    pdf.set_xy(left, top + height)


def _check(pdf: _Pdf, document: dict[str, Any], check: dict[str, Any]) -> None:
    status = check["status"]
    if pdf.will_page_break(14):
        pdf.add_page()
    pdf.set_x(pdf.l_margin)
    pdf.status_word(status, 8.5)
    pdf.set_font("helvetica", "B" if status != "passed" else "", 9.5)
    advisory = " (advisory)" if check["severity"] != "required" else ""
    pdf.wrapped(latin1(f"{check['title']}{advisory}"), 4.6)
    pdf.set_x(pdf.l_margin + 30)
    pdf.set_font("courier", size=7.5)
    pdf.set_text_color(*MUTED)
    ref = model.check_reference(document, check)
    proven = provenance.describe(provenance.check_provenance(document, check))
    pdf.wrapped(latin1(f"{check['id']} - {proven} - evidence: {ref}"), 3.6)
    if status in model.NOT_PASSED:
        pdf.ln(1)
        if check.get("expected"):
            pdf.labelled("Expected", check["expected"])
        if check.get("observed"):
            pdf.labelled("Observed", check["observed"], _COLOUR["failed"])
        if check.get("fix"):
            pdf.labelled("Fix", check["fix"], _COLOUR["passed"])
        if check.get("reason") and not check.get("observed"):
            pdf.labelled("Reason", check["reason"])
        if status != "not_verifiable":
            _transcript(pdf, check)
    elif status == "passed":
        _transcript(pdf, check, MAX_ROWS_PASSED)
    pdf.ln(1.8)


def _items(pdf: _Pdf, document: dict[str, Any]) -> None:
    asks = {i.id: i.asks for i in checklist_items()}
    first = True
    for item in document["items"]:
        if not item["checks"]:
            continue  # not selected / no checks: the title page's table says so
        if first or pdf.will_page_break(60):
            pdf.add_page()
        else:
            pdf.ln(6)
            pdf.set_draw_color(209, 213, 219)
            pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
            pdf.ln(4)
        first = False
        pdf.heading(f"{item['title']}", 15)
        pdf.set_x(pdf.l_margin)
        pdf.status_word(item["status"], 11, phases.status_label(document, item))
        pdf.set_font("courier", size=9)
        pdf.set_text_color(*MUTED)
        pdf.cell(0, 5.5, latin1(f"{item['id']} ({item['kind']} item)"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.para(f"Proven: {provenance.where(document, item)}", 9, MUTED)
        if asks.get(item["id"]):
            pdf.para(f"Bluum asks: {asks[item['id']]}", 9, MUTED, "I")
        if item.get("reason"):
            pdf.para(item["reason"], 9)
        pdf.ln(3)
        ordered = sorted(item["checks"], key=lambda c: (c["status"] == "passed", c["id"]))
        for check in ordered:
            _check(pdf, document, check)


def _charts(pdf: _Pdf, document: dict[str, Any]) -> None:
    found = charts.charts(document)
    if not found:
        return
    pdf.add_page()
    pdf.heading("Charts", 15)
    for chart in found:
        if pdf.will_page_break(95):
            pdf.add_page()
        pdf.heading(chart.title, 11)
        pdf.image(io.BytesIO(chart.svg.encode("utf-8")), w=170)
        pdf.para(chart.caption, 8.5, MUTED)
        pdf.ln(4)


def render_pdf(document: dict[str, Any], company_name: str | None = None) -> bytes:
    pdf = _Pdf(f"bluum-readiness {document['suite_version']} - {model.short_digest(document)[:23]}...")
    pdf.set_title(latin1(f"Bluum production readiness: {model.verdict_line(document)}"))
    pdf.set_author(latin1(company_name or "bluum-readiness"))
    pdf.set_subject(latin1(model.short_digest(document)))
    pdf.set_creator(f"bluum-readiness {document['suite_version']}")
    pdf.set_creation_date(datetime.fromisoformat(document["finished"]))
    pdf.alias_nb_pages()
    _title_page(pdf, document, company_name)
    _items(pdf, document)
    _charts(pdf, document)
    return bytes(pdf.output())


def write_pdf(document: dict[str, Any], out_dir: Path, company_name: str | None = None) -> Path:
    path = out_dir / "readiness.pdf"
    path.write_bytes(render_pdf(document, company_name))
    return path
