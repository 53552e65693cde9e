"""The README's promises: its rule table is the policies' catalogue, its commands exist."""

import sys

from conftest import ROOT, run


def test_readme_rule_table_is_generated_from_the_policies():
    result = run(
        [sys.executable, str(ROOT / "scripts" / "update_readme.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_readme_leads_with_the_two_setup_commands():
    text = (ROOT / "README.md").read_text()
    first_code = text.index("```")
    block = text[first_code : text.index("```", first_code + 3)]
    assert "make demo" in block and "make test" in block
    assert (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1] == "make test"
