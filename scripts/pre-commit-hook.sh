#!/usr/bin/env bash
# pre-commit hook (`language: script`): audit the inventory files a commit changes.
# First run: a private venv beside this script's repository (the pre-commit cache) from the pinned,
# hash-checked requirements/action.lock, then token-auditor itself editable (the policies stay next to
# the code). OPA comes from $OPA_BIN, PATH, .bin/opa, or is built pinned (.opa-version) with `go install`.
# $TOKEN_AUDITOR_PYTHON: a Python that already has token-auditor (skips the venv).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
opa_version="v$(cat "$here/.opa-version")"
[ "$#" -gt 0 ] || exit 0
python_bin="${TOKEN_AUDITOR_PYTHON:-}"
if [ -z "$python_bin" ]; then
  venv="$here/.pre-commit-venv"
  stamp="$venv/.installed-$(cat "$here/pyproject.toml" "$here/requirements/action.lock" | sha256sum | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
      echo "token-auditor: needs python3 >= 3.11 on PATH (or \$TOKEN_AUDITOR_PYTHON)" >&2; exit 2; }
    rm -rf "$venv"
    python3 -m venv "$venv" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes --only-binary :all: \
      -r "$here/requirements/action.lock" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation \
      --no-index -e "$here" >&2
    touch "$stamp"
  fi
  python_bin="$venv/bin/python"
fi
if [ -z "${OPA_BIN:-}" ] && ! command -v opa >/dev/null && [ ! -x "$here/.bin/opa" ]; then
  if command -v go >/dev/null; then
    GOBIN="$here/.bin" CGO_ENABLED=0 go install "github.com/open-policy-agent/opa@${opa_version}" >&2
  fi
fi
exec "$python_bin" -m auditor audit --policy-dir "$here/policies" --fail-on "${TOKEN_AUDITOR_FAIL_ON:-high}" "$@"
