"""The project's README and docs stand on their own: no reference to files outside the repository (the team's
shared notes), and no link into src/ or tests/ as the place to read how something works."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", ROOT / "ARCHITECTURE.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_no_page_refers_outside_the_repository_or_links_into_the_code():
    problems = []
    for page in PAGES:
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"(?<![\w.-])shared/", line):
                problems.append(f"{page.name}:{number}: refers to shared/, which is not in the repository")
            if re.search(r"\]\((\.\./)?(src|tests)/", line):
                problems.append(f"{page.name}:{number}: links into src/ or tests/ as documentation")
    assert not problems, "\n".join(problems)
