"""`--format html`: self-contained, escaped, secret-free, deterministic and bounded (browser checks: test_html_browser)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html.parser import HTMLParser

import pytest
from conftest import FIXTURES, NOW, run_cli, write_yaml
from report_factory import synthetic_report

from auditor.report.html import MAX_FIRST, MAX_TOKEN_SECTIONS, HtmlFormat
from auditor.saved_report import report_of

PLANTED = "hf_" + "PlantedHtmlValue0123456789abcdefXYZ"
HOSTILE_NAME = '</script><script>alert("x")</script><img src=x onerror=alert(1)>'
BIG_FILE_BOUND = 4 * 1024 * 1024

INVENTORY = f"""\
format: token-inventory/v1
collected_at: "2026-11-20T09:00:00Z"
tokens:
  - id: t-hostile
    provider: huggingface
    kind: user_access_token
    name: '{HOSTILE_NAME}'
    owner: mallory
    legacy: true
    grants: [{{resource: {{type: user, name: mallory}}, permissions: [repo.write]}}]
    created_at: "2024-01-01T00:00:00Z"
    stored_in: [{{kind: ci_variable, location: "acme/app", key: "{PLANTED}"}}]
"""


class _Collector(HTMLParser):
    """Every tag with its attributes, and the text of style/script blocks."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.blocks: dict[str, list[str]] = {"style": [], "script": []}
        self._open: str | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._open = tag if tag in self.blocks else None

    def handle_data(self, data):
        if self._open:
            self.blocks[self._open].append(data)

    def handle_endtag(self, tag):
        self._open = None


def _parse(page: str) -> _Collector:
    collector = _Collector()
    collector.feed(page)
    return collector


@pytest.fixture(scope="module")
def demo(demo_audit):
    """The demo fixtures audited once (JSON) and rendered by `report` (HTML)."""
    return json.loads((demo_audit / "r.json").read_text()), (demo_audit / "r.html").read_text()


def test_page_loads_nothing_from_anywhere(demo):
    _, page = demo
    parsed = _parse(page)
    for tag, attrs in parsed.tags:
        assert "src" not in attrs or attrs["src"].startswith("data:"), (tag, attrs)
        if tag == "a":
            assert attrs.get("href", "#").startswith("#"), attrs
        assert tag not in {"link", "iframe", "object", "embed", "img", "base", "form"}, tag
    css = "".join(parsed.blocks["style"])
    assert "url(" not in css and "@import" not in css
    # The CSP admits exactly the inline style and script (by hash) and nothing else.
    csp = next(a["content"] for t, a in parsed.tags if a.get("http-equiv") == "Content-Security-Policy")
    assert "default-src 'none'" in csp
    for block in ("style", "script"):
        text = "".join(parsed.blocks[block])
        digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
        assert f"{block}-src 'sha256-{digest}'" in csp


def test_summary_numbers_sections_and_methodology_match_the_json(demo):
    report, page = demo
    summary = report["summary"]
    for name in ("tokens", "audited", "skipped", "findings", "tokens_with_findings"):
        assert f'data-summary="{name}">{summary[name]}<' in page
    for severity, count in summary["by_severity"].items():
        assert f'data-summary="by_severity.{severity}">{count}<' in page
    for item in report["inputs"]:
        assert item["sha256"] in page
    assert report["now"] in page and report["engine"]["opa_version"] in page
    assert str(report["policy"]["catalogue_version"]) in page
    flagged = {f["subject"]["key"] for f in report["findings"] if f["subject"]["type"] == "token"}
    assert page.count('<article class="token') == len(flagged)
    for rule_id, count in summary["by_rule"].items():
        assert f'data-rule-count="{rule_id}">{count}<' in page
    for skipped in report["skipped"]:
        assert skipped["reason"].replace('"', "&#34;") in page or skipped["reason"] in page
    assert 'data-framework="owasp-nhi-2025"' in page and 'data-requirement="NHI10"' in page


# The demo fixtures' planted values, spelled out: the test must not rely on the detector it checks.
FIXTURE_SECRETS = ("hf_EXAMPLEfakeTOKENdoNOTuse0000000000", "hf_EXAMPLEfakeTOKENdoNOTuse1111111111")


def test_no_token_value_from_the_fixtures_appears(demo):
    report, page = demo
    fixtures_text = "".join(path.read_text() for path in sorted(FIXTURES.rglob("*")) if path.is_file())
    for value in FIXTURE_SECRETS:
        assert value in fixtures_text  # still planted, so its absence below means something
        assert value not in page and value[3:27] not in page
    assert report["secrets_redacted"] == 2
    assert page.count("hf_…0000") >= 1 and page.count("hf_…1111") >= 1  # the masked forms are shown instead


def test_hostile_names_are_escaped_and_planted_values_never_appear(audit_json, tmp_path):
    code, report, stderr = audit_json(write_yaml(tmp_path / "inv.yaml", INVENTORY), extra=("--fail-on", "never"))
    assert code == 0, stderr
    assert report["secrets_redacted"] == 1
    page = HtmlFormat().render(report_of(report))
    assert PLANTED not in page
    assert (
        HOSTILE_NAME not in page
        and "<img" not in page
        and "onerror=alert" not in page.replace("onerror=alert(1)&gt;", "")
    )
    assert "&lt;/script&gt;&lt;script&gt;alert(" in page
    parsed = _parse(page)
    assert [t for t, _ in parsed.tags].count("script") == 1


def test_waived_baseline_and_expired_waiver_sections(demo):
    report, _ = demo
    data = dict(report)
    findings = [dict(f) for f in report["findings"]]
    findings[0].update(
        waived=True,
        counts=False,
        waiver={"reason": "retiring <Space>", "approved_by": "secops", "ticket": "SEC-1", "expires": "2026-12-31"},
    )
    findings[1].update(baseline=True, counts=False)
    findings[2].update(
        waived=False,
        waiver={"reason": "old", "approved_by": "secops", "ticket": None, "expires": "2026-01-01", "expired": True},
    )
    data["findings"] = findings
    data["baseline"] = {"file": "base.json", "fingerprints": 3, "matched": 1, "new": 24, "resolved": 2}
    page = HtmlFormat().render(report_of(data))
    assert 'id="waived"' in page and "retiring &lt;Space&gt;" in page and "SEC-1" in page
    assert 'id="baseline"' in page and "base.json" in page and "24 new" in page
    assert "Findings under an expired waiver" in page
    # The waived finding no longer counts in "what to do first".
    plain = HtmlFormat().render(report_of(report))
    assert 'id="waived"' not in plain and 'id="baseline"' not in plain


def test_re_rendering_is_deterministic_and_equals_a_direct_audit(demo, opa_server, tmp_path):
    report, page = demo
    assert HtmlFormat().render(report_of(report)) == page
    url, token = opa_server
    out = tmp_path / "direct.html"
    result = run_cli(
        "audit",
        str(FIXTURES),
        "-f",
        "html",
        "-o",
        str(out),
        "--now",
        NOW,
        "--fail-on",
        "never",
        "--opa-url",
        url,
        "--opa-token-env",
        "TA_T",
        env={"TA_T": token},
    )
    assert result.returncode == 0, result.stderr
    assert out.read_text() == page


def test_100k_findings_render_into_a_bounded_file(tmp_path):
    data = synthetic_report(100_000)
    assert data["summary"]["findings"] == 100_000
    page = HtmlFormat().render(report_of(data))
    assert len(page.encode()) < BIG_FILE_BOUND
    assert 'data-summary="findings">100000<' in page
    assert page.count('<article class="token') == MAX_TOKEN_SECTIONS
    hidden = data["summary"]["tokens_with_findings"] - MAX_TOKEN_SECTIONS
    assert f"{hidden} more tokens with findings not shown here" in page
    urgent = sum(1 for f in data["findings"] if f["severity"] in ("critical", "high"))
    shown = len(re.findall(r'<li data-filter-item data-severity="(?:critical|high)"', page))
    assert shown == MAX_FIRST and f"{urgent - MAX_FIRST} more critical or high findings" in page


def test_report_without_token_facts_still_renders_every_flagged_token(demo):
    report, _ = demo
    older = {k: v for k, v in report.items() if k != "tokens"}
    page = HtmlFormat().render(report_of(older))
    flagged = {f["subject"]["key"] for f in report["findings"] if f["subject"]["type"] == "token"}
    assert page.count('<article class="token') == len(flagged)
    assert "This report predates per-token facts" in page
    assert 'data-chart="shares"' not in page and 'data-chart="severity"' in page


def test_missing_optional_fields_render_empty_not_crash(demo):
    report, _ = demo
    data = json.loads(json.dumps(report))
    data["tokens"][0].update(grants=[{"permissions": ["x"]}, {}], stored_in=[{}], approval=None)
    data["findings"][0]["recommendation"]["replacement"] = {"scoped": [{}], "permissions": {"a": None}}
    data["findings"][1]["subject"] = {"type": "token", "key": "provider:kind:only-a-key"}
    page = HtmlFormat().render(report_of(data))
    assert 'data-summary="findings">' in page and page.count('<article class="token') >= 1


def test_waived_row_carries_the_shared_waiver_sentence():
    from tests.format_support import small_report

    page = HtmlFormat().render(small_report())
    assert '<span class="muted">waiver: moves to OIDC (approved by lead, SEC-9, until 2026-12-31)</span>' in page
