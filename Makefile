# imrnet-repro: the two commands a user needs are `make repro` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# torch first, pinned: on these machines this resolves to the local CPU wheel. Elsewhere, for
# a CPU-only install, run: make setup TORCH_SPEC="torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu"
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.setup-done
PROFILE ?=
FORCE ?=

.PHONY: setup test lint bench params repro clean-venv

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --disable-pip-version-check $(TORCH_SPEC) 2> >(grep -v '^WARNING: Location' >&2)
	$(PIP) install -q --disable-pip-version-check -c constraints.txt -e '.[dev]' 2> >(grep -v '^WARNING: Location' >&2)
	@touch $(STAMP)

# The lint gate (ruff: pyflakes, bugbear, mccabe <= 18; pyproject.toml) runs first.
test: setup lint
	$(PY) -m pytest -q

lint: setup
	$(PY) -m ruff check --no-cache .

# Speed: the pytest benchmarks (ratios measured in one run), then the runtime ratios against
# reports/pinned/runtime.json (exit 3: the machine was too busy to tell; docs/reproducibility.md).
bench: setup
	$(PY) -m pytest -q tests/bench --benchmark-enable --benchmark-only -p no:cacheprovider -s
	$(PY) -m repro bench --check

# make repro [PROFILE=default|smoke|decisive|paper] [FORCE=1]: params.yaml (generated; tracked
# holding the default profile, for DVC's revision views) <- profiles/default.yaml + profiles/$(PROFILE).yaml's overrides (pipelines/profiles.py;
# a hand-edited params.yaml is refused, never overwritten), then DVC runs what changed
# (FORCE=1: every stage, no run cache). `make params PROFILE=...` alone: for `dvc repro` / `dvc exp`.
params: setup
	$(PY) -m pipelines.profiles $(or $(PROFILE),default)

repro: params
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" dvc repro $(if $(FORCE),--force --no-run-cache,)

clean-venv:
	rm -rf $(VENV)
