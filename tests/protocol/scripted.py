"""Tiny protocol programs written for one test each (Python, standard library only), and how to start them."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

PRELUDE = """
import json, os, subprocess, sys, threading, time

def read():
    line = sys.stdin.readline()
    return json.loads(line) if line else None

def answer(request, result=None, **error):
    message = {"jsonrpc": "2.0", "id": request["id"]}
    message.update({"error": error} if error else {"result": result})
    sys.stdout.write(json.dumps(message) + "\\n")
    sys.stdout.flush()

def hello(request, **capabilities):
    answer(request, {"protocol": 1, "name": "scripted", "capabilities": capabilities})
"""


def program(tmp_path: Path, body: str, name: str = "program.py") -> list[str]:
    """``argv`` of a Python program made of the prelude and ``body`` (dedented)."""
    path = tmp_path / name
    path.write_text(PRELUDE + textwrap.dedent(body), encoding="utf-8")
    return [sys.executable, str(path)]
