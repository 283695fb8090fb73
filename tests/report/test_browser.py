"""readiness.html in a real headless browser (Debian's chromium driven by playwright): it renders, logs no console
error, requests nothing but the file itself, shows the verdict, the fix and the charts; a screenshot is written.

Without /usr/bin/chromium the test is skipped locally and fails under CI (``CI`` set: .ci/run installs it).
The screenshot goes to the test's tmp dir (its path is printed and recorded as the ``screenshot`` property) and,
when ``BLUUM_READINESS_SCREENSHOTS`` names a folder, is copied there.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bluum_readiness.report import model
from bluum_readiness.report.render import render_all
from tests.report.conftest import COMPANY

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing under CI: .ci/run must install Debian's chromium")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium); the browser test needs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


def test_the_html_report_renders_offline_without_errors(
    browser,
    not_ready_json: Path,
    tmp_path: Path,
    record_property: pytest.RecordProperty,  # type: ignore[no-untyped-def]
) -> None:
    document = model.load_report(not_ready_json)
    render_all(document, not_ready_json.parent, COMPANY)
    html = (not_ready_json.parent / "readiness.html").resolve()
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    requests: list[str] = []
    problems: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.goto(html.as_uri(), wait_until="load")
    assert page.title().startswith("Bluum readiness: NOT READY")
    assert page.locator("#verdict .word").inner_text() == "NOT READY"
    finding = page.locator("#finding-error-handling\\.429-jitter")
    assert finding.is_visible() and "full jitter" in finding.inner_text()
    assert "req_synthetic_0001" in finding.inner_text()
    for chart in ("#chart-backoff svg", "#chart-latency svg"):
        box = page.locator(chart).bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 100, chart
    assert page.locator("details#check-error-handling\\.429-jitter").get_attribute("open") is not None
    shot = tmp_path / "readiness.png"
    page.screenshot(path=str(shot), full_page=True)
    page.close()
    assert requests == [html.as_uri()], "the report must load nothing but itself"
    assert problems == []
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    record_property("screenshot", str(shot))
    print(f"screenshot: {shot}")
    keep = os.environ.get("BLUUM_READINESS_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / "readiness-not-ready.png")
