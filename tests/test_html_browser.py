"""The HTML report in a real headless Chromium (Debian's `chromium`, driven by Playwright; no browser download).

Not skippable: without Chromium these tests fail and say how to install it (`make test` installs it as root).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

import pytest
from report_factory import synthetic_report

from auditor.report.html import MAX_TOKEN_SECTIONS, HtmlFormat
from auditor.saved_report import report_of

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def playwright():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} not found: install Debian's chromium (`apt-get install chromium`, done by `make test` "
            "as root) or point $CHROMIUM at a Chromium binary",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


class Session:
    """A fresh profile, one page, every request and console error recorded."""

    def __init__(self, driver, scripts: bool = True):
        self.profile = tempfile.TemporaryDirectory(prefix="ta-chromium-")
        self.context = driver.chromium.launch_persistent_context(
            self.profile.name,
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            java_script_enabled=scripts,
            viewport={"width": 1300, "height": 900},
            service_workers="block",
        )
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.context.on("request", lambda request: self.requests.append(request.url))
        # Anything that is not the report file itself is recorded (above) and refused.
        self.context.route(re.compile(r"^(?!file://).*"), lambda route: route.abort())
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def open(self, path: Path, timeout_ms: float = 30_000):
        self.url = path.resolve().as_uri()
        self.page.goto(self.url, wait_until="load", timeout=timeout_ms)
        return self.page

    def close(self):
        self.context.close()
        self.profile.cleanup()


@pytest.fixture()
def session(playwright):
    sessions = []

    def start(scripts: bool = True) -> Session:
        sessions.append(Session(playwright, scripts))
        return sessions[-1]

    yield start
    for item in sessions:
        item.close()


@pytest.fixture(scope="module")
def demo(demo_audit):
    return json.loads((demo_audit / "r.json").read_text()), demo_audit / "r.html"


def _shown(page, selector: str) -> int:
    return page.locator(f"{selector}:visible").count()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    """$TA_SCREENSHOT_DIR when set (to keep them), else a temp dir: tests never write into the checkout."""
    chosen = os.environ.get("TA_SCREENSHOT_DIR")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("report-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _screenshot(page, name: str, capsys, folder: Path) -> Path:
    path = folder / name
    page.evaluate("window.scrollTo(0, 0)")
    height = min(1600, page.evaluate("document.documentElement.scrollHeight"))
    page.screenshot(path=str(path), full_page=True, clip={"x": 0, "y": 0, "width": 1300, "height": height})
    with capsys.disabled():
        print(f"\nscreenshot: {path}")
    return path


def test_demo_report_numbers_filters_and_no_requests(demo, session, capsys, screenshots):
    report, html_path = demo
    browser = session()
    page = browser.open(html_path)
    summary = report["summary"]

    # Visible summary numbers are the JSON's.
    for name in ("tokens", "audited", "skipped", "findings", "tokens_with_findings"):
        assert page.locator(f'[data-summary="{name}"]').inner_text() == str(summary[name])
    for severity, count in summary["by_severity"].items():
        assert page.locator(f'[data-summary="by_severity.{severity}"]').inner_text() == str(count)
    assert page.locator('[data-method="now"]').inner_text() == report["now"]
    bars = page.locator('[data-chart="severity"] g[data-label]')
    assert {
        bars.nth(i).get_attribute("data-label"): int(bars.nth(i).get_attribute("data-value"))
        for i in range(bars.count())
    } == summary["by_severity"]

    flagged: dict[str, set] = {}
    for finding in report["findings"]:
        if finding["subject"]["type"] == "token":
            flagged.setdefault(finding["subject"]["key"], set()).add(finding["severity"])
    tokens = page.locator("article.token")
    assert page.locator("#filters").is_visible()
    assert _shown(page, "article.token") == len(flagged) == tokens.count()

    # Severity filter: exactly the tokens with a critical finding stay.
    page.select_option("#f-severity", "critical")
    expected = sum(1 for severities in flagged.values() if "critical" in severities)
    assert expected > 0 and _shown(page, "article.token") == expected
    for i in range(tokens.count()):
        if tokens.nth(i).is_visible():
            assert "critical" in tokens.nth(i).get_attribute("data-severity").split()
    assert re.match(r"\d+ of \d+ items shown", page.locator("#f-count").inner_text())

    # Provider + rule + owner narrow further; reset brings everything back.
    page.click("#f-reset")
    first = report["findings"][0]
    page.select_option("#f-rule", first["rule_id"])
    by_rule = {
        f["subject"]["key"]
        for f in report["findings"]
        if f["rule_id"] == first["rule_id"] and f["subject"]["type"] == "token"
    }
    assert _shown(page, "article.token") == len(by_rule)
    page.click("#f-reset")
    owner = first["subject"]["owner"]
    page.select_option("#f-owner", owner)
    owned = {
        k
        for k in flagged
        if any(f["subject"]["key"] == k and f["subject"]["owner"] == owner for f in report["findings"])
    }
    assert _shown(page, "article.token") == len(owned)
    page.click("#f-reset")
    page.select_option("#f-provider", "huggingface")
    assert _shown(page, "article.token") == sum(1 for k in flagged if k.startswith("huggingface:"))
    page.click("#f-reset")

    # Text search finds one token by name.
    token = next(t for t in report["tokens"] if t["key"] in flagged and t.get("name"))
    page.fill("#f-search", token["name"])
    visible = page.locator("article.token:visible")
    assert visible.count() >= 1
    assert all(token["name"].lower() in visible.nth(i).inner_text().lower() for i in range(visible.count()))
    page.fill("#f-search", "no-such-token-anywhere-zzz")
    assert _shown(page, "article.token") == 0 and _shown(page, "ul.first li") == 0
    page.click("#f-reset")
    assert _shown(page, "article.token") == len(flagged)

    _screenshot(page, "demo.png", capsys, screenshots)
    assert browser.requests == [browser.url], browser.requests
    assert browser.errors == [], browser.errors  # includes CSP refusals of the inline style/script


def test_page_is_usable_without_scripts(demo, session):
    report, html_path = demo
    browser = session(scripts=False)
    page = browser.open(html_path)
    assert not page.locator("#filters").is_visible()
    assert page.locator('[data-summary="findings"]').inner_text() == str(report["summary"]["findings"])
    assert _shown(page, "article.token") == page.locator("article.token").count() > 0
    assert browser.requests == [browser.url]


def test_100k_finding_report_opens(session, tmp_path, capsys, screenshots):
    data = synthetic_report(100_000)
    path = tmp_path / "big.html"
    path.write_text(HtmlFormat().render(report_of(data)), encoding="utf-8")
    browser = session()
    page = browser.open(path, timeout_ms=60_000)
    assert page.locator('[data-summary="findings"]').inner_text() == "100000"
    assert _shown(page, "article.token") == MAX_TOKEN_SECTIONS
    expected = page.locator('article.token[data-severity~="low"]').count()
    assert 0 < expected < MAX_TOKEN_SECTIONS
    page.select_option("#f-severity", "low")
    assert _shown(page, "article.token") == expected
    assert page.locator("#f-count").inner_text().startswith(f"{_shown(page, '[data-filter-item]')} of ")
    assert page.locator("[data-more]").count() >= 2
    _screenshot(page, "synthetic-100k.png", capsys, screenshots)
    assert browser.requests == [browser.url]
    assert browser.errors == []
