"""Property-based fuzzing of `audit` with hypothesis: hostile inventories of every format, the contract on every run.

Each example starts from a structurally valid inventory (a real fixture of its format, tokens sub-sampled and
renamed, or a generated token-inventory/v1), then mutates it: other types, YAML tags, huge numbers, NaN,
strings with control characters and planted token values, deep structures, broken timestamps. Every run must:
exit 0, 1 or 2; on 2 say so on stderr, one line per error, each naming the file, and write nothing; never show
a traceback; never show a planted value; and write every output valid (report JSON schema, SARIF 2.1.0 schema,
Jenkins JUnit XSD, well-formed HTML and XML, no terminal control characters in the human formats).

Examples run in-process through the click entry point (the CLI's code path, without a Python start-up per
example) against the session's OPA; a few run as real processes too. `--hypothesis-profile=long` runs deeper.
"""

from __future__ import annotations

import copy
import html.parser
import json
import re
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
import xmlschema
import yaml
from click.testing import CliRunner
from conftest import FIXTURES, NOW, ROOT, run_cli
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_mutation_survivors import SECRET_SAMPLES

from auditor.cli import main as cli_main
from auditor.inventory.validate import load_schema

DATA = ROOT / "tests" / "data"
SARIF_SCHEMA = json.loads((DATA / "sarif-schema-2.1.0.json").read_text())
JUNIT_XSD = xmlschema.XMLSchema(str(DATA / "jenkins-junit.xsd"))
REPORT_SCHEMA = load_schema("report.v1")
FORMATS = ("table", "json", "sarif", "junit", "markdown", "html")
OUTPUT_FILES = {
    "table": "token-auditor.txt",
    "json": "token-auditor.json",
    "sarif": "token-auditor.sarif",
    "junit": "token-auditor.xml",
    "markdown": "token-auditor.md",
    "html": "token-auditor.html",
}
# C0 and C1 control characters other than tab and newline: terminal escapes, clipboard writes, resets.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _load(path: Path):
    """A fixture's document; `gh api --paginate` pages (arrays one after another) joined into one array."""
    text = path.read_text()
    if path.suffix != ".json":
        return yaml.safe_load(text)
    decoder, pages, index = json.JSONDecoder(), [], 0
    while index < len(text.rstrip()):
        page, index = decoder.raw_decode(text, index)
        pages.append(page)
        while index < len(text) and text[index].isspace():
            index += 1
    return pages[0] if len(pages) == 1 else [item for page in pages for item in page]


# Seeds: (format label, relative file name the CLI will see, parsed document, extra CLI arguments).
SEEDS = {
    "huggingface-inventory/v1": [
        ("inventory", _load(FIXTURES / "huggingface" / name), ()) for name in ("user-export.yaml", "org-export.yaml")
    ],
    "github-inventory/v1": [("inventory", _load(FIXTURES / "github" / "acme-corp.json"), ())],
    "github-api": [
        (
            "orgs/acme-labs/personal-access-tokens",
            _load(FIXTURES / "github" / "orgs" / "acme-labs" / "personal-access-tokens.json"),
            (),
        ),
        (
            "orgs/octo-org/personal-access-tokens",
            _load(DATA / "github-rest-examples" / "orgs" / "octo-org" / "personal-access-tokens.json"),
            (),
        ),
    ],
    "gitlab-inventory/v1": [("inventory", _load(FIXTURES / "gitlab" / "gitlab-example.json"), ())],
    "gitlab-api": [
        (
            "personal_access_tokens",
            _load(DATA / "gitlab-api-examples" / "personal_access_tokens.json"),
            ("--org", "gitlab.example.com"),
        )
    ],
    "token-inventory/v1": [("inventory", _load(FIXTURES / "neutral" / "package-registries.yaml"), ())],
}
BARE_JSON = {"github-api", "gitlab-api"}  # bare API answers are JSON files found by their path


# --- generation ---------------------------------------------------------------------------------------------

names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.", min_size=1, max_size=20)
timestamps = st.datetimes(
    min_value=__import__("datetime").datetime(2015, 1, 1), max_value=__import__("datetime").datetime(2030, 12, 31)
).map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ"))


@st.composite
def neutral_token(draw, index: int) -> dict:
    token = {
        "id": f"tok-{index}-{draw(names)}",
        "provider": draw(st.sampled_from(["npm", "pypi", "docker", "slack"])),
        "owner": draw(names),
    }
    optional = {
        "kind": names,
        "name": st.one_of(st.none(), names),
        "legacy": st.booleans(),
        "org_wide": st.booleans(),
        "scopes": st.lists(names, max_size=3),
        "created_at": st.one_of(st.none(), timestamps),
        "expires_at": st.one_of(st.none(), timestamps),
        "last_used_at": st.one_of(st.none(), timestamps),
        "grants": st.lists(
            st.fixed_dictionaries(
                {
                    "resource": st.fixed_dictionaries(
                        {"type": st.sampled_from(["package", "org", "repository"]), "name": names}
                    ),
                    "permissions": st.lists(
                        st.sampled_from(["package.read", "package.publish", "admin", "x.write"]), max_size=3
                    ),
                    "access": st.sampled_from(["none", "read", "write", "admin"]),
                }
            ),
            max_size=2,
        ),
        "stored_in": st.lists(
            st.fixed_dictionaries(
                {"kind": st.sampled_from(["ci_variable", "github_actions_secret"]), "location": names, "key": names}
            ),
            max_size=2,
        ),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            token[key] = draw(strategy)
    return token


@st.composite
def valid_inventory(draw, fmt: str):
    """A structurally valid inventory of the format: a seed with its lists sub-sampled and names varied."""
    if fmt == "token-inventory/v1" and draw(st.booleans()):
        count = draw(st.integers(0, 6))
        document = {
            "format": fmt,
            "collected_at": draw(timestamps),
            "tokens": [draw(neutral_token(i)) for i in range(count)],
        }
        return "inventory", document, ()
    name, seed, extra = draw(st.sampled_from(SEEDS[fmt]))
    document = copy.deepcopy(seed)
    lists = document if isinstance(document, list) else document.get("tokens") if isinstance(document, dict) else None
    if isinstance(lists, list) and lists:
        keep = draw(st.lists(st.sampled_from(range(len(lists))), min_size=1, max_size=len(lists), unique=True))
        lists[:] = [lists[i] for i in sorted(keep)]
    return name, document, extra


def _slots(node, path=()):
    """Every (container, key) pair of the document: where a mutation can land."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield node, key
            yield from _slots(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield node, index
            yield from _slots(value, (*path, index))


# How a planted value sits in its string: alone, glued to other characters, inside a URL, percent-encoded or
# written with an escape, as pasted config and logs hold them.
GLUE = [
    lambda v: v,
    lambda v: f" {v} ",
    lambda v: f"token={v}",
    lambda v: f"export_TOKEN_{v}",
    lambda v: f"token-{v}",
    lambda v: f"1{v}",
    lambda v: f"note:\n{v}",
    lambda v: f"https://user:{v}@github.com/acme",
    lambda v: f"https%3A%2F%2Fuser%3A{v}%40github.com",
    lambda v: f"token%3D{v}",
    lambda v: v.replace("_", "%5F", 1),
    lambda v: f"\\u{ord(v[0]):04x}{v[1:]}",
]
HOSTILE_TEXT = [
    "\x1b]52;c;ZXZpbA==\x07",
    "\x1b[2J",
    "\x1b]8;;https://evil.example\x07click\x1b]8;;\x07",
    "\x00",
    "\x85",
    "\u202e",
    "\ufffe",
    "\uffff",
    "\ud800",
    "<script>alert(1)</script>",
    "@team",
    "# ✅ Gate passed",
    "| a | b |",
    "]]>",
    "&amp;",
    "\r\n",
    "\t",
    "x" * 5000,
]
BAD_TIMES = [
    "0000-00-00T00:00:00Z",
    "2026-13-01T00:00:00Z",
    "2026-02-30T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "2026-11-25T25:00:00Z",
    "2026-11-25T00:00:00+25:00",
    "2026-11-25",
    "",
    "now",
]
TYPE_SWAPS = [None, True, False, 0, -1, 1.5, [], {}, "", "x", ["a"], {"k": "v"}]
# Raw text put where a marker string stands: numbers and nesting that no Python value serializes to.
RAW = [
    "9" * 5000,
    "-" + "9" * 4400,
    "1e400",
    "-1e400",
    "NaN",
    "Infinity",
    "-Infinity",
    "0x1F",
    "1_000",
    "[" * 60 + "]" * 60,
    "[" * 20000 + "]" * 20000,
    '{"a":' * 5000 + "1" + "}" * 5000,
]
YAML_TAGS = [
    "!!int {v}",
    "!!float {v}",
    "!!bool {v}",
    "!!str {v}",
    "!!binary {v}",
    "!!timestamp 0000-00-00",
    "!!null {v}",
    "!!python/name:os.system",
    "!!python/object/apply:os.system ['true']",
    "!<tag:x> {v}",
    "!!set {{a, b}}",
    "!!omap [a: 1]",
]


@st.composite
def mutation(draw):
    kind = draw(st.sampled_from(["type", "text", "plant", "raw", "tag", "time", "key", "plant_key"]))
    return kind, draw(st.integers(0, 10_000)), draw(st.integers(0, 10_000)), draw(st.integers(0, 10_000))


@st.composite
def hostile_inventory(draw, fmt: str):
    """(relative file name, file text, extra CLI args, planted values) for one example."""
    name, document, extra = draw(valid_inventory(fmt))
    as_yaml = fmt not in BARE_JSON and draw(st.booleans())
    planted: list[str] = []
    raw: dict[str, str] = {}
    for kind, where, choice, other in draw(st.lists(mutation(), max_size=4)):
        slots = list(_slots(document))
        if not slots:
            break
        container, key = slots[where % len(slots)]
        value = SECRET_SAMPLES[choice % len(SECRET_SAMPLES)]
        if kind == "type":
            container[key] = copy.deepcopy(TYPE_SWAPS[choice % len(TYPE_SWAPS)])
        elif kind == "text":
            container[key] = draw(st.text(max_size=30)) + HOSTILE_TEXT[choice % len(HOSTILE_TEXT)]
        elif kind == "plant":
            planted.append(value)
            container[key] = GLUE[other % len(GLUE)](value)
        elif kind == "plant_key" and isinstance(container, dict):
            planted.append(value)
            container[f"{value}"] = "x"
        elif kind == "key" and isinstance(container, dict):
            container[HOSTILE_TEXT[choice % len(HOSTILE_TEXT)]] = HOSTILE_TEXT[other % len(HOSTILE_TEXT)]
        elif kind == "time":
            container[key] = BAD_TIMES[choice % len(BAD_TIMES)]
        elif kind in ("raw", "tag"):
            marker = f"zzmarker{len(raw)}zz"
            container[key] = marker
            if kind == "tag" and as_yaml:
                text = YAML_TAGS[choice % len(YAML_TAGS)]
                if "{v}" in text:
                    planted.append(value)
                raw[marker] = text.format(v=value)
            else:
                raw[marker] = RAW[choice % len(RAW)]
    if as_yaml:
        text = yaml.safe_dump(document, allow_unicode=draw(st.booleans()), sort_keys=False, width=10_000)
        for marker, replacement in raw.items():
            text = text.replace(marker, replacement)
        suffix = ".yaml"
    else:
        text = json.dumps(document, ensure_ascii=draw(st.booleans()), indent=draw(st.sampled_from([None, 1])))
        for marker, replacement in raw.items():
            text = text.replace(f'"{marker}"', replacement)
        suffix = ".json"
    return name + suffix, text, extra, sorted(set(planted))


# --- the contract ---------------------------------------------------------------------------------------------


class _Balance(html.parser.HTMLParser):
    VOID = {"meta", "br", "hr", "img", "input", "link", "col", "wbr", "area", "base", "source"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


def html_problems(page: str) -> list[str]:
    parser = _Balance()
    parser.feed(page)
    parser.close()
    problems = parser.problems + ([f"unclosed {parser.stack}"] if parser.stack else [])
    if not page.lstrip().lower().startswith("<!doctype html>"):
        problems.append("no doctype")
    if page.count("<script") > 1:
        problems.append("more than one script element")
    if CONTROL.search(page):
        problems.append("control character")
    return problems


def _leaked(text: str, planted: list[str]) -> list[str]:
    """Planted values whose whole, or whose body without prefix and last four, appear in text."""
    return [value for value in planted if value in text or value[4:-4] in text]


def check_contract(
    code: int,
    stdout: str,
    stderr: str,
    out: Path,
    input_name: str,
    planted: list[str],
    exception: BaseException | None = None,
) -> None:
    where = f"exit {code}\nstderr: {stderr[:2000]!r}"
    if exception is not None and not isinstance(exception, SystemExit):
        import traceback

        pytest.fail("uncaught " + "".join(traceback.format_exception(exception))[-3000:])
    assert code in (0, 1, 2), where
    assert "Traceback" not in stderr and "Traceback" not in stdout, where
    assert _leaked(stdout + stderr, planted) == [], where
    assert not CONTROL.search(stderr), where
    written = {p.name: p for p in out.iterdir()} if out.exists() else {}
    if code == 2:
        lines = stderr.splitlines()
        assert lines and stderr.endswith("\n"), where
        assert all(line.startswith("token-auditor: ") and input_name in line for line in lines), where
        if not all(line.startswith("token-auditor: invalid: ") for line in lines):
            assert len(lines) == 1, where  # schema errors: one line each; anything else: one line
        assert written == {}, f"exit 2 left outputs behind: {sorted(written)}"
        return
    assert sorted(written) == sorted(OUTPUT_FILES.values()), where
    texts = {name: path.read_text(encoding="utf-8") for name, path in written.items()}
    for name, text in texts.items():
        assert _leaked(text, planted) == [], f"{name} shows a planted value"
    report = json.loads(texts["token-auditor.json"])
    errors = [e.message for e in jsonschema.Draft202012Validator(REPORT_SCHEMA).iter_errors(report)]
    assert errors == [], errors[:5]
    assert (code == 1) == (report["gate"]["passed"] is False)
    validator = jsonschema.Draft4Validator(SARIF_SCHEMA)
    sarif_errors = [e.message for e in validator.iter_errors(json.loads(texts["token-auditor.sarif"]))]
    assert sarif_errors == [], sarif_errors[:5]
    ET.fromstring(texts["token-auditor.xml"].encode())
    junit = JUNIT_XSD.iter_errors(texts["token-auditor.xml"])
    assert [str(e.reason) for e in junit] == []
    assert html_problems(texts["token-auditor.html"]) == []
    for human in ("token-auditor.txt", "token-auditor.md"):
        assert not CONTROL.search(texts[human]), f"{human} carries a control character"
    markdown = texts["token-auditor.md"]
    assert markdown.count("<details>") == markdown.count("</details>")


def run_in_process(opa_server, path: Path, extra: tuple[str, ...], out: Path):
    url, token = opa_server
    runner = CliRunner(env={"TA_FUZZ_OPA_TOKEN": token, "TOKEN_AUDITOR_OPA_URL": None})
    args = [
        "audit",
        str(path),
        "--now",
        NOW,
        "--output-dir",
        str(out),
        "--opa-url",
        url,
        "--opa-token-env",
        "TA_FUZZ_OPA_TOKEN",
        "--workers",
        "1",
        *extra,
        *[arg for fmt in FORMATS for arg in ("-f", fmt)],
    ]
    result = runner.invoke(cli_main, args, catch_exceptions=True)
    return result.exit_code, result.stdout, result.stderr, result.exception


def fuzz_one(opa_server, example) -> None:
    name, text, extra, planted = example
    with tempfile.TemporaryDirectory(prefix="ta-fuzz-") as work:
        path = Path(work) / "in" / name
        path.parent.mkdir(parents=True)
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        out = Path(work) / "out"
        code, stdout, stderr, exception = run_in_process(opa_server, path, extra, out)
        event(f"exit {code}")  # --hypothesis-show-statistics: how many examples got past validation
        check_contract(code, stdout, stderr, out, path.name, planted, exception)


@pytest.mark.parametrize("fmt", list(SEEDS))
def test_fuzz_audit_contract(opa_server, fmt):
    @given(example=hostile_inventory(fmt))  # examples per format: the profile's (default 25, long 400)
    def property_holds(example):
        fuzz_one(opa_server, example)

    property_holds()


@given(data=st.data())
@settings(max_examples=6, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
def test_fuzz_real_processes_keep_the_contract(opa_server, data):
    """A few examples through a real `python -m auditor` process: interpreter start-up, stdout and stderr."""
    fmt = data.draw(st.sampled_from(list(SEEDS)))
    name, text, extra, planted = data.draw(hostile_inventory(fmt))
    url, token = opa_server
    with tempfile.TemporaryDirectory(prefix="ta-fuzz-") as work:
        path = Path(work) / "in" / name
        path.parent.mkdir(parents=True)
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        out = Path(work) / "out"
        result = run_cli(
            "audit",
            str(path),
            "--now",
            NOW,
            "--output-dir",
            str(out),
            "--opa-url",
            url,
            "--opa-token-env",
            "TA_T",
            *extra,
            *[a for f in FORMATS for a in ("-f", f)],
            env={"TA_T": token},
        )
        check_contract(result.returncode, result.stdout, result.stderr, out, path.name, planted)


def test_harness_generates_every_mutation_kind():
    """The generator is not vacuous: planted values, tags, raw numbers and nesting all reach the files."""
    seen = {"planted": 0, "tag": 0, "raw": 0, "yaml": 0, "json": 0}

    @given(example=hostile_inventory("huggingface-inventory/v1"))
    @settings(max_examples=150, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    def collect(example):
        name, text, _, planted = example
        seen["planted"] += bool(planted)
        seen["tag"] += "!!" in text
        seen["raw"] += "9" * 5000 in text or "[" * 60 in text or "NaN" in text
        seen["yaml" if name.endswith(".yaml") else "json"] += 1

    collect()
    assert all(count > 0 for count in seen.values()), seen
