"""Texts as the reports and the console show them: control characters made visible, never sent.

A run's texts come partly from the integration and the target (an exception's message, a log line, a program's
name), and those may hold control characters: a Node or Go program's coloured error (``\\x1b[31m…``), a NUL, a lone
UTF-16 surrogate. readiness.json keeps them as they were (JSON escapes them); everything rendered from it and the
console show each one as a visible stand-in instead, because written as it is one makes junit.xml invalid XML (a CI
gate then cannot read the report), recolours the rest of a terminal or a CI log (a message cut at 400 characters
after its ``\\x1b[31m``), or turns up as a stray glyph in Markdown and the PDF.

- a C0 control character or DEL → its Unicode control picture (``\\x1b`` → ``␛``, ``\\x00`` → ``␀``), so a colour code
  reads ``␛[31m``; tab and line feed are kept, and CR LF is one line feed;
- a C1 control character, a lone surrogate, U+FFFE or U+FFFF → ``�`` (U+FFFD).

Nothing is removed, so no two parts of a text are ever joined: a secret split by a colour code cannot reappear
whole where the run's secrets were scrubbed before (``redaction``).

``well_formed`` is the part every file a run writes needs, readiness.json and pytest.log included: a lone surrogate
(half of an emoji, from a JavaScript program that cut its error message with ``slice``) cannot be written as UTF-8,
and the run would lose its record; it becomes ``�``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["shown", "shown_data", "well_formed", "well_formed_data"]

_UNSHOWABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # in a str a pair is one code point: any surrogate is alone
_PICTURES = 0x2400  # U+2400 SYMBOL FOR NULL: the control pictures follow in the order of the C0 characters
_DELETE_PICTURE = "\u2421"

T = TypeVar("T")


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(_PICTURES + code)
    return _DELETE_PICTURE if code == 0x7F else "\ufffd"


def shown(text: str) -> str:
    """``text`` with every control character but tab and line feed replaced by a visible stand-in."""
    if _UNSHOWABLE.search(text) is None:
        return text
    return _UNSHOWABLE.sub(_picture, text.replace("\r\n", "\n"))


def well_formed(text: str) -> str:
    """``text`` with every lone surrogate replaced by ``�``: writable as UTF-8."""
    return _LONE_SURROGATE.sub("\ufffd", text)


def _every_string(value: Any, change: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return change(value)
    if isinstance(value, dict):
        return {change(k) if isinstance(k, str) else k: _every_string(v, change) for k, v in value.items()}
    if isinstance(value, list):
        return [_every_string(v, change) for v in value]
    if isinstance(value, tuple):
        return tuple(_every_string(v, change) for v in value)
    return value


def shown_data(value: T) -> T:
    """``value`` (JSON-ready data: dicts, lists or tuples, strings, numbers) with ``shown`` applied to every string in
    it, keys included; ``value`` itself is not changed."""
    changed: T = _every_string(value, shown)
    return changed


def well_formed_data(value: T) -> T:
    """``value`` (JSON-ready data) with ``well_formed`` applied to every string in it, keys included."""
    changed: T = _every_string(value, well_formed)
    return changed
