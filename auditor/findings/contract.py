"""The check contract: what every `checks/<dir>/` of a policy directory must be, read with `opa inspect -a`.

- `<dir>.rego` is package `checks.<dir>` and has a package `# METADATA` block with a title, `custom.id` equal to
  the directory name with dashes, a severity the findings use, OWASP NHI ids of the framework mapping that reads
  `custom.nhi`, a recommended action, and `schemas: - input: schema["policy-input"]`;
- `<dir>_test.rego` exists;
- no two checks share an id.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from auditor.errors import EngineError
from auditor.findings.finding import SEVERITIES
from auditor.frameworks import load_frameworks

INPUT_SCHEMA = "policy-input"


def inspect_annotations(directory: Path, opa: str) -> dict:
    """`opa inspect -a --format json DIRECTORY`: namespaces (package → files) and annotations."""
    try:
        completed = subprocess.run(
            [opa, "inspect", "-a", "--format", "json", str(directory)],
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise EngineError(f"cannot run {opa} inspect: {exc}") from None
    if completed.returncode != 0:
        located = re.search(r"\S+\.rego:\d+: .*", completed.stderr)  # the first error, where it is
        lines = [line.strip() for line in completed.stderr.splitlines() if line.strip()]
        detail = located.group(0) if located else (lines[0] if lines else f"exit {completed.returncode}")
        raise EngineError(f"opa inspect {directory} failed: {detail}")
    return json.loads(completed.stdout)


def nhi_ids(policy_dir: Path) -> set[str]:
    """Requirement ids of the framework mappings whose rules are read from `custom.nhi`."""
    return {
        requirement.id
        for framework in load_frameworks(policy_dir)
        if framework.rules_from_metadata == "nhi"
        for requirement in framework.requirements
    }


def _ref(terms: list[dict]) -> str:
    """`[{var input}]` → `input`; `[{var schema}, {string policy-input}]` → `schema["policy-input"]`."""
    text = ""
    for term in terms:
        text += term["value"] if term["type"] == "var" else f"[{json.dumps(term['value'])}]"
    return text


def check_contract(policy_dir: Path, opa: str) -> list[str]:
    """Every way the checks under POLICY_DIR/checks break the contract, each naming its place; [] when none."""
    checks = Path(policy_dir) / "checks"
    if not checks.is_dir():
        return [f"{checks}: no checks directory"]
    try:
        inspected = inspect_annotations(checks, opa)
    except EngineError as exc:  # a module OPA cannot read, or no OPA: the contract cannot hold
        return [str(exc)]
    package_of: dict[str, str] = {}
    for namespace, files in (inspected.get("namespaces") or {}).items():
        for file in files:
            package_of[str(Path(file).resolve())] = namespace.removeprefix("data.")
    annotation_of: dict[str, dict] = {}
    for entry in inspected.get("annotations") or []:
        annotation = entry.get("annotations") or {}
        if annotation.get("scope") == "package":
            annotation_of[str(Path(entry["location"]["file"]).resolve())] = annotation
    valid_nhi = nhi_ids(Path(policy_dir))
    problems: list[str] = []
    owners: dict[str, list[str]] = {}
    for stray in sorted(checks.glob("*.rego")):
        problems.append(f"{stray}: a check lives in checks/<id>/<id>.rego, not at the top of checks/")
    for directory in sorted(p for p in checks.iterdir() if p.is_dir()):
        name = directory.name
        module, test = directory / f"{name}.rego", directory / f"{name}_test.rego"
        if not test.is_file():
            problems.append(f"{directory}: no {test.name} (every check has its tests)")
        if not module.is_file():
            problems.append(f"{directory}: no {module.name} (a check lives in checks/<id>/<id>.rego)")
            continue
        package = package_of.get(str(module.resolve()))
        if package != f"checks.{name}":
            problems.append(f"{module}: package is {package}, expected checks.{name}")
        annotation = annotation_of.get(str(module.resolve()))
        if annotation is None:
            problems.append(f"{module}: no package # METADATA block (title, custom.id, severity, …)")
            continue
        problems.extend(f"{module}: {problem}" for problem in _metadata_problems(name, annotation, valid_nhi))
        rule_id = (annotation.get("custom") or {}).get("id")
        if isinstance(rule_id, str):
            owners.setdefault(rule_id, []).append(str(directory))
    for rule_id, directories in sorted(owners.items()):
        if len(directories) > 1:
            problems.append(f"custom.id {rule_id!r} is used by more than one check: {', '.join(directories)}")
    return problems


def _metadata_problems(name: str, annotation: dict, valid_nhi: set[str]) -> list[str]:
    expected = name.replace("_", "-")
    custom = annotation.get("custom") or {}
    problems = []
    if not annotation.get("title"):
        problems.append("METADATA has no title")
    rule_id = custom.get("id")
    if rule_id is None:
        problems.append(f"METADATA has no custom.id (expected {expected!r})")
    elif rule_id != expected:
        problems.append(f"custom.id {rule_id!r} does not match its directory (expected {expected!r})")
    severity = custom.get("severity")
    if severity not in SEVERITIES:
        problems.append(f"custom.severity {severity!r} is not one of {', '.join(SEVERITIES)}")
    nhi = custom.get("nhi", [])
    if not isinstance(nhi, list):
        problems.append(f"custom.nhi {nhi!r} is not a list")
    else:
        unknown = [n for n in nhi if n not in valid_nhi]
        if unknown:
            known = ", ".join(sorted(valid_nhi, key=lambda n: (len(n), n))) or "none: no framework reads custom.nhi"
            problems.append(f"custom.nhi {unknown} not OWASP NHI risk ids ({known})")
    if not isinstance(custom.get("recommended_action"), str) or not custom["recommended_action"]:
        problems.append("METADATA has no custom.recommended_action")
    declared = {(_ref(s.get("path") or []), _ref(s.get("schema") or [])) for s in annotation.get("schemas") or []}
    if ("input", f'schema["{INPUT_SCHEMA}"]') not in declared:
        problems.append(f'METADATA does not declare schemas: - input: schema["{INPUT_SCHEMA}"]')
    return problems


def main(argv: list[str] | None = None) -> int:
    """`python -m auditor.findings.contract [POLICY_DIR]`: print each problem; exit 1 when there are any."""
    import sys

    from auditor.engine.binary import find_opa

    args = sys.argv[1:] if argv is None else argv
    policy_dir = Path(args[0] if args else "policies")
    problems = check_contract(policy_dir, find_opa())
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"check contract: {sum(1 for p in (policy_dir / 'checks').iterdir() if p.is_dir())} checks keep it")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
