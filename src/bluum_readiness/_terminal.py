"""Text as a terminal shows it: ``as_displayed`` takes out the escape sequences that colour or move text.

A program started where the CI sets ``FORCE_COLOR`` (or a logger configured for colour) writes ``\\x1b[32mINFO\\x1b[0m``
around the parts of its log lines. A terminal shows ``INFO``; a check that reads the line for its method, path and
status must read that too, or it blames the team for a line that says everything (``\\bPOST\\b`` does not match
``\\x1b[1mPOST``). ECMA-48 escape sequences only: control sequences (``ESC [ … final``), operating system commands
(``ESC ] … BEL`` or ``ESC \\``) and the two-character escapes; any other control character stays.
"""

from __future__ import annotations

import re

__all__ = ["as_displayed"]

_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")


def as_displayed(text: str) -> str:
    """``text`` without its terminal escape sequences."""
    return _ESCAPE.sub("", text) if "\x1b" in text else text
