"""Strategies for numbers at the edges, shared by the reliability fuzz tests (issue 23's sweep, kept).

``edge_text``: strings a money or price field may be sent — huge digit strings (up to 5,000 digits), non-ASCII
digits (Arabic-Indic, fullwidth, mathematical, any Unicode ``Nd`` swapped into a plausible amount), exponents,
signs, spaces, a trailing newline, ``NaN``/``Infinity`` spelled as strings, lone UTF-16 surrogates, the SQLite
int64 boundary in cents, the twin's maximum and one cent over. ``edge_literal``: raw JSON number literals —
``NaN``/``Infinity``, ``1e999``, integers over Python's 4,300-digit limit, any integer or float.
``as_json_value``: either, as the bytes of a JSON value.
"""

from __future__ import annotations

import json

from hypothesis import strategies as st

__all__ = ["EDGE_TEXTS", "NUMERIC_FIELDS", "as_json_value", "edge_literal", "edge_text"]

NUMERIC_FIELDS = ("amount", "quantity", "notional", "limit_price", "stop_price", "price")
"""The body fields of the twin that hold decimal strings."""

EDGE_TEXTS = [
    "0", "0.00", "0.01", "-1", "+10", " 10", "10 ", "10\n", "1_000", "1e5", "1E26", "NaN", "nan", "Infinity",
    "-Infinity", "inf", "١٠", "１０", "𝟏𝟎", "١٠.٠٠", "10.0٠", "٣", "²", "92233720368547758.07",
    "92233720368547758.08", "99999999999999999.99", "1000000000.00", "1000000000.01", "999999999.99",
    "1" + "0" * 26, "9" * 60, "0." + "0" * 40 + "1", "1" * 5000, "\ud800", "10\udfff",
]  # fmt: skip
_non_ascii_digit = st.characters(categories=["Nd"]).filter(lambda c: not c.isascii())
_digits = st.text("0123456789", min_size=1, max_size=30)
edge_text = st.one_of(
    st.sampled_from(EDGE_TEXTS),
    st.builds(lambda whole, cents: f"{whole}.{cents}", _digits, st.text("0123456789", max_size=3)),
    st.builds(lambda n: "9" * n, st.integers(10, 5000)),
    st.builds(  # a plausible amount with one digit swapped for a non-ASCII one
        lambda amount, i, d: amount[: i % len(amount)] + d + amount[i % len(amount) + 1 :],
        st.sampled_from(["10.00", "250", "1.5"]),
        st.integers(0, 5),
        _non_ascii_digit,
    ),
)
edge_literal = st.one_of(
    st.sampled_from([b"NaN", b"Infinity", b"-Infinity", b"1e999", b"-1e999", b"1" * 4301, b"-" + b"9" * 5000]),
    st.integers(-(10**30), 10**30).map(lambda n: str(n).encode()),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda f: repr(f).encode()),
)
as_json_value = st.one_of(
    # raw UTF-8, as most clients send (a lone surrogate becomes bytes that are not UTF-8)
    edge_text.map(lambda t: json.dumps(t, ensure_ascii=False).encode("utf-8", "surrogatepass")),
    edge_text.map(lambda t: json.dumps(t).encode()),  # \uXXXX escapes
    edge_literal,
)
