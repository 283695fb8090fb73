"""The checklist items the docs list are the catalog's (``catalog/checklist.toml``), each with checks in the
registry and a suite test: a new, renamed or check-less item fails here until docs/ says so."""

from __future__ import annotations

import re
from pathlib import Path

from bluum_readiness.catalog import items as checklist_items
from bluum_readiness.checks.registry import registry
from bluum_readiness.suite.paths import suite_root

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _items_table(text: str) -> list[tuple[str, str, str, str]]:
    section = text[text.index("## The checklist items") :]
    section = section[: section.index("\n## ", 3)]
    rows = re.findall(r"^\| `([a-z-]+)` \| ([a-z-]+) \| ([^|]+) \| `([^`]+)` \|$", section, flags=re.M)
    return [(i, kind, title.strip(), file) for i, kind, title, file in rows]


def test_the_item_table_of_cli_md_is_the_catalog_in_order() -> None:
    table = _items_table((DOCS / "cli.md").read_text(encoding="utf-8"))
    assert [(i, kind, title) for i, kind, title, _ in table] == [(i.id, i.kind, i.title) for i in checklist_items()]


def test_every_item_cli_md_lists_has_registered_checks_and_a_suite_test_in_the_named_file() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert "Every item of Bluum's checklist (`catalog/checklist.toml`) has checks in this version" in text
    for item_id, _, _, file in _items_table(text):
        assert registry.for_item(item_id), f"docs/cli.md lists {item_id} as checked; the registry has no check"
        suite_file = suite_root() / file
        assert f'@pytest.mark.checklist("{item_id}")' in suite_file.read_text(encoding="utf-8"), suite_file


def test_the_item_ids_configuration_md_lists_are_the_catalog() -> None:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    line = text[text.index("Item ids:") : text.index(".\n", text.index("Item ids:"))]
    assert re.findall(r"`([a-z-]+)`", line) == [i.id for i in checklist_items()]


def test_every_cause_of_the_catalogue_is_explained_in_checks_md() -> None:
    from bluum_readiness.catalog import causes

    text = (DOCS / "checks.md").read_text()
    for cause in causes().values():
        assert f"| `{cause.id}` — {cause.title} | {cause.explains} |" in text, cause.id
