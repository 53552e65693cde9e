#!/usr/bin/env python3
"""Rego threshold mutants: each one-line change to a temp copy of policies/ must make `opa test` fail.

A mutant that leaves `opa test` passing "survived": the Rego tests do not pin that boundary. Exits 1 when any
mutant survives (or no longer applies: the policy changed and this list must follow it).

    python scripts/rego_mutants.py [--opa .bin/opa]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# (file under policies/, original text, mutated text)
MUTANTS: tuple[tuple[str, str, str], ...] = (
    (
        "lib/config/config.rego",
        "time.parse_rfc3339_ns(ts) > days * 86400000000000",
        "time.parse_rfc3339_ns(ts) >= days * 86400000000000",
    ),
    (
        "lib/config/config.rego",
        "time.parse_rfc3339_ns(ts) > days * 86400000000000",
        "time.parse_rfc3339_ns(ts) > (days - 1) * 86400000000000",
    ),
    (
        "lib/config/config.rego",
        "time.parse_rfc3339_ns(ts) > days * 86400000000000",
        "time.parse_rfc3339_ns(ts) > (days + 1) * 86400000000000",
    ),
    (
        "lib/config/config.rego",
        "time.parse_rfc3339_ns(a) > days * 86400000000000",
        "time.parse_rfc3339_ns(a) >= days * 86400000000000",
    ),
    (
        "lib/config/config.rego",
        "time.parse_rfc3339_ns(a) > days * 86400000000000",
        "time.parse_rfc3339_ns(a) > (days + 1) * 86400000000000",
    ),
    ("lib/config/config.rego", "days_since(ts) := floor(", "days_since(ts) := ceil("),
    ("lib/config/config.rego", "days_between(a, b) := floor(", "days_between(a, b) := ceil("),
    ("lib/config/config.rego", 'object.get(input, ["config", "thresholds"], {})', "{}"),
    (
        "lib/tokens/tokens.rego",
        "time.parse_rfc3339_ns(tok.expires_at) < config.now_ns",
        "time.parse_rfc3339_ns(tok.expires_at) <= config.now_ns",
    ),
    (
        "lib/tokens/tokens.rego",
        "time.parse_rfc3339_ns(tok.expires_at) < config.now_ns",
        "time.parse_rfc3339_ns(tok.expires_at) > config.now_ns",
    ),
    ("token_auditor/settings/data.json", '"stale_days": 90', '"stale_days": 89'),
    ("token_auditor/settings/data.json", '"stale_days": 90', '"stale_days": 91'),
    ("token_auditor/settings/data.json", '"unused_grace_days": 30', '"unused_grace_days": 29'),
    ("token_auditor/settings/data.json", '"unused_grace_days": 30', '"unused_grace_days": 31'),
    ("token_auditor/settings/data.json", '"max_age_days": 365', '"max_age_days": 364'),
    ("token_auditor/settings/data.json", '"max_age_days": 365', '"max_age_days": 366'),
    ("token_auditor/settings/data.json", '"max_lifetime_days": 90', '"max_lifetime_days": 89'),
    ("token_auditor/settings/data.json", '"max_lifetime_days": 90', '"max_lifetime_days": 91'),
    (
        "checks/stale_token/stale_token.rego",
        "config.older_than(tok.last_used_at, limit)",
        "config.older_than(tok.last_used_at, limit - 1)",
    ),
    ("checks/stale_token/stale_token.rego", "\tnot tokens.expired(tok)\n", "\n"),
    (
        "checks/never_used_token/never_used_token.rego",
        "config.older_than(tok.created_at, limit)",
        "config.older_than(tok.created_at, limit - 1)",
    ),
    ("checks/never_used_token/never_used_token.rego", "\tnot tokens.expired(tok)\n", "\n"),
    (
        "checks/unrotated_token/unrotated_token.rego",
        "config.older_than(tok.created_at, limit)",
        "config.older_than(tok.created_at, limit - 1)",
    ),
    ("checks/unrotated_token/unrotated_token.rego", "\tnot tokens.expired(tok)\n", "\n"),
    (
        "checks/long_lived/long_lived.rego",
        "config.longer_than(tok.created_at, tok.expires_at, limit)",
        "config.longer_than(tok.created_at, tok.expires_at, limit - 1)",
    ),
    ("checks/long_lived/long_lived.rego", "\tnot tokens.expired(tok)\n", "\n"),
    ("checks/expired_token/expired_token.rego", "\ttokens.expired(tok)\n", "\tis_string(tok.expires_at)\n"),
)


def opa_test(opa: str, policies: Path) -> subprocess.CompletedProcess:
    return subprocess.run([opa, "test", str(policies)], capture_output=True, text=True, timeout=600)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--opa", default=os.environ.get("OPA_BIN") or str(ROOT / ".bin" / "opa"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ta-rego-mutants-") as work:
        policies = Path(work) / "policies"
        shutil.copytree(ROOT / "policies", policies)
        baseline = opa_test(args.opa, policies)
        if baseline.returncode != 0:
            print(f"opa test fails without any mutant:\n{baseline.stdout}{baseline.stderr}", file=sys.stderr)
            return 2
        killed, survived, stale = 0, [], []
        for relative, original, mutated in MUTANTS:
            path = policies / relative
            text = path.read_text()
            if text.count(original) < 1:
                stale.append((relative, original))
                continue
            path.write_text(text.replace(original, mutated, 1))
            try:
                result = opa_test(args.opa, policies)
            finally:
                path.write_text(text)
            label = f"{relative}: {original.strip()!r} -> {mutated.strip()!r}"
            if result.returncode == 0:
                survived.append(label)
                print(f"SURVIVED {label}")
            else:
                killed += 1
                print(f"killed   {label}")
        for relative, original in stale:
            print(f"NOT APPLIED {relative}: {original.strip()!r} (update this list)")
        total = killed + len(survived)
        print(
            f"rego mutants: {killed}/{total} killed ({100.0 * killed / max(1, total):.1f}%), "
            f"{len(survived)} survived, {len(stale)} not applied"
        )
        return 1 if survived or stale else 0


if __name__ == "__main__":
    sys.exit(main())
