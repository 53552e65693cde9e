"""Differential test: the cheaper Rego gives byte-identical reports.

Seeded inventories of every provider (GitHub, GitLab, Hugging Face, npm/PyPI) are audited through
the real pipeline with the current policies; the JSON report (findings sorted, temporary input path
left out) must equal the golden file written by the policies before the Rego was optimized
(scripts/differential.py says how it was made).
"""

from __future__ import annotations

import difflib
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import differential  # noqa: E402

# Literal counts of the golden files: a regenerated golden file with other findings fails here too.
EXPECTED_FINDINGS = {"github": 1077, "gitlab": 947, "huggingface": 662, "registries": 694}


@pytest.mark.parametrize("provider", sorted(differential.GENERATORS))
def test_reports_are_byte_identical_to_the_original_policies(provider):
    golden = differential.golden(provider)
    assert json.loads(golden)["differential_counts"]["findings"] == EXPECTED_FINDINGS[provider]

    produced = differential.current(provider)

    if produced != golden:
        diff = difflib.unified_diff(
            golden.decode().splitlines(), produced.decode().splitlines(), "golden", "current", lineterm="", n=2
        )
        pytest.fail(f"{provider}: the report differs from the golden file:\n" + "\n".join(list(diff)[:60]))


def test_generated_inventories_are_seeded():
    """Same seed, same inventory: the golden files stay meaningful."""
    for provider, generate in differential.GENERATORS.items():
        assert generate(20, differential.SEED) == generate(20, differential.SEED), provider
