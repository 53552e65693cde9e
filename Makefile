# token-auditor: `make demo` and `make test` do all set-up on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := demo

OPA_VERSION   := v$(strip $(file < .opa-version))
REGAL_VERSION := v0.42.0
# Where the Go module proxy does not serve github.com/open-policy-agent/regal v0.42.0, the Makefile builds
# github.com/styrainc/regal v0.35.1 (the module's name before it moved) from the module cache instead.
REGAL_FALLBACK_MODULE  := github.com/styrainc/regal
REGAL_FALLBACK_VERSION := v0.35.1
# Any Python >= 3.11: the first of these that runs and is new enough, unless PYTHON=... is given.
PYTHON_CANDIDATES := python3 python3.11 python3.12 python3.13 python3.14
PYTHON_OK     = $(1) -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1
ifndef PYTHON
PYTHON        := $(firstword $(foreach p,$(PYTHON_CANDIDATES),$(shell $(call PYTHON_OK,$(p)) && echo $(p))))
endif
ACTIONLINT_VERSION := v1.7.12
VENV          := .venv
PY            := $(VENV)/bin/python
BIN           := $(CURDIR)/.bin
OPA           := $(BIN)/opa
REGAL         := $(BIN)/regal
ACTIONLINT    := $(BIN)/actionlint
COVERAGE_MIN  := 95
export OPA_BIN := $(OPA)
# Debian's Chromium drives the HTML report test (Playwright uses it; it never downloads a browser).
export CHROMIUM ?= /usr/bin/chromium

.PHONY: setup demo test lint test-policies test-python test-env lint-policies lint-ci lock bench docs clean browser mutation

setup: $(VENV)/.installed $(BIN)/.opa-$(OPA_VERSION) $(BIN)/.regal-$(REGAL_VERSION) $(BIN)/.actionlint-$(ACTIONLINT_VERSION)

$(VENV)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "need Python 3.11 or later: none of $(PYTHON_CANDIDATES) on PATH is; install one or run make PYTHON=/path/to/python3.X"; exit 2; }
	@$(call PYTHON_OK,$(PYTHON)) || { echo "need Python 3.11 or later: $(PYTHON) is $$($(PYTHON) --version 2>&1)"; exit 2; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

# Pinned engine and linter, built from source with the Go module proxy.
$(BIN)/.opa-$(OPA_VERSION):
	mkdir -p $(BIN)
	GOBIN=$(BIN) CGO_ENABLED=0 go install github.com/open-policy-agent/opa@$(OPA_VERSION)
	$(OPA) version | grep -q "Version: $(patsubst v%,%,$(OPA_VERSION))"
	touch $@

$(BIN)/.regal-$(REGAL_VERSION):
	mkdir -p $(BIN)
	GOBIN=$(BIN) CGO_ENABLED=0 go install github.com/open-policy-agent/regal@$(REGAL_VERSION) 2>/dev/null || { \
	  echo "regal $(REGAL_VERSION) not served; building $(REGAL_FALLBACK_MODULE)@$(REGAL_FALLBACK_VERSION)"; \
	  dir=$$(go mod download -json $(REGAL_FALLBACK_MODULE)@$(REGAL_FALLBACK_VERSION) | sed -n 's/^\t"Dir": "\(.*\)",$$/\1/p'); \
	  test -n "$$dir" && cd "$$dir" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -o $(REGAL) . ; }
	$(REGAL) version >/dev/null
	touch $@

# GitHub workflow linter for action.yml's documented workflows (zizmor comes with the dev extras).
$(BIN)/.actionlint-$(ACTIONLINT_VERSION):
	mkdir -p $(BIN)
	GOBIN=$(BIN) CGO_ENABLED=0 go install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)
	$(ACTIONLINT) -version | grep -qx "$(ACTIONLINT_VERSION)"
	touch $@

demo: setup
	$(VENV)/bin/token-auditor audit fixtures/ --now 2026-11-25T00:00:00Z --fail-on never

# --schema: each check's METADATA declares schema["policy-input"], so a check reading an input field the
# policy input does not have (a typo) is a type error.
lint-policies: setup
	$(OPA) fmt --list --fail policies
	$(OPA) check --strict --schema policies/schemas policies
	$(PY) -m auditor.findings.contract policies
	$(REGAL) lint policies

test-policies: lint-policies
	$(OPA) test policies --coverage --threshold $(COVERAGE_MIN) --format json > .cache-coverage.json || { $(OPA) test policies -v; rm -f .cache-coverage.json; exit 1; }
	@$(PY) -c "import json;c=json.load(open('.cache-coverage.json'));print(f\"rego coverage: {c['coverage']:.1f}% (min $(COVERAGE_MIN)%)\")"
	@rm -f .cache-coverage.json
	$(OPA) test policies

# Installs Chromium where it can (root + apt); elsewhere the browser test fails and says how to install it.
browser:
	@if [ -x "$(CHROMIUM)" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	else echo "warning: $(CHROMIUM) missing and not root: run 'sudo apt-get install chromium' (the HTML browser test needs it)"; fi

# On every core (pytest-xdist); --dist loadfile keeps a file's tests on one worker, so its module-scoped fixtures
# (one audit shared by the file's tests) still run once. Each worker starts its own session OPA.
# `make test PYTEST_WORKERS=0` runs them in one process (on a busy machine the workers only add overhead).
PYTEST_WORKERS ?= auto
test-python: setup browser
	$(PY) -m pytest -q -n $(PYTEST_WORKERS) --dist loadfile

# action.yml and the workflows of docs/ci.md: actionlint (workflow syntax, inputs of ./action.yml, expressions) and
# zizmor offline (unpinned actions, template injection, credentials, permissions).
lint-ci: setup
	rm -rf .cache/ci-examples
	$(PY) scripts/ci_examples.py .cache/ci-examples
	cd .cache/ci-examples/local && git init -q . && $(ACTIONLINT) -no-color
	$(VENV)/bin/zizmor --offline --no-progress action.yml .cache/ci-examples/.github/workflows

# The action's pinned, hash-checked requirements (runtime and build dependencies, for its python-version).
lock: setup
	cd requirements && CUSTOM_COMPILE_COMMAND="make lock" ../$(VENV)/bin/pip-compile -q --generate-hashes \
	  --allow-unsafe --build-deps-for editable --strip-extras --no-emit-index-url --no-emit-find-links \
	  -o action.lock ../pyproject.toml


# The suite must not depend on the caller's environment: a subset re-run with a proxy, a CA bundle, a remote OPA
# URL and Ctrl-C ignored (as nohup or some CI runners leave it) must pass unchanged.
HOSTILE_ENV := TOKEN_AUDITOR_OPA_URL=http://127.0.0.1:9 http_proxy=http://127.0.0.1:9 \
  https_proxy=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 \
  REQUESTS_CA_BUNDLE=/nonexistent/ca.pem CURL_CA_BUNDLE=/nonexistent/ca.pem
# Managed and remote OPA, Ctrl-C and SIGTERM, the session's in-process OPA: what the environment could break.
TEST_ENV_SUBSET := tests/test_secrets_and_lifecycle.py \
  tests/test_mutation_survivors.py::test_exact_thresholds_do_not_fire_one_second_more_does \
  tests/test_mutation_survivors.py::test_sarif_results_carry_rule_index \
  tests/test_cli_core.py::test_exit_1_when_findings_at_or_above_fail_on \
  tests/test_cli_core.py::test_exit_0_below_threshold_and_with_fail_on_never \
  tests/test_cli_core.py::test_opa_url_with_bearer_token tests/test_cli_core.py::test_unreachable_opa_url_exits_3
test-env: setup
	env $(HOSTILE_ENV) $(PY) -c "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); \
	  os.execv(sys.argv[1], sys.argv[1:])" $(VENV)/bin/pytest -q -p no:cacheprovider $(TEST_ENV_SUBSET)

test: lint test-policies lint-ci test-python test-env

# Python held to the Rego's standard: formatted, linted (pyflakes, bugbear, isort, pyupgrade), type-checked.
lint: setup
	$(VENV)/bin/ruff format --check --quiet auditor tests scripts
	$(VENV)/bin/ruff check --quiet auditor tests scripts
	$(VENV)/bin/mypy

# Mutation testing (hours for every Python mutant: MUTATION_SAMPLE bounds it). Not part of `make test`.
MUTATION_SAMPLE ?= 40
mutation: setup
	$(PY) scripts/rego_mutants.py
	$(PY) scripts/python_mutants.py $(if $(MUTATION_SAMPLE),--sample $(MUTATION_SAMPLE))

bench: setup
	$(PY) scripts/bench.py $(BENCH_ARGS)

# docs/rules.md's rule table, from the policies' METADATA (a test fails when it is stale).
docs: setup
	$(PY) scripts/update_rules_doc.py

clean:
	rm -rf $(VENV) $(BIN) .pytest_cache
