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

.PHONY: setup test bench repro clean-venv

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --disable-pip-version-check $(TORCH_SPEC) 2> >(grep -v '^WARNING: Location' >&2)
	$(PIP) install -q --disable-pip-version-check -c constraints.txt -e '.[dev]' 2> >(grep -v '^WARNING: Location' >&2)
	@touch $(STAMP)

test: setup
	$(PY) -m pytest -q

# Speed: the pytest benchmarks (ratios measured in one run), then the runtime ratios against
# reports/pinned/runtime.json (exit 3: the machine was too busy to tell; docs/reproducibility.md).
bench: setup
	$(PY) -m pytest -q tests/bench --benchmark-enable --benchmark-only -p no:cacheprovider -s
	$(PY) -m repro bench --check

# make repro [PROFILE=default|smoke|paper] [FORCE=1]: params.yaml becomes profiles/$(PROFILE).yaml,
# then DVC runs what changed (FORCE=1: every stage, no run cache).
repro: setup
	@test -f profiles/$(or $(PROFILE),default).yaml || { echo "no profile profiles/$(PROFILE).yaml (have: $$(cd profiles && ls *.yaml | sed "s/.yaml//" | tr "\n" " "))" >&2; exit 2; }
	@cmp -s profiles/$(or $(PROFILE),default).yaml params.yaml || { cp profiles/$(or $(PROFILE),default).yaml params.yaml; echo "params.yaml <- profiles/$(or $(PROFILE),default).yaml"; }
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" dvc repro $(if $(FORCE),--force --no-run-cache,)

clean-venv:
	rm -rf $(VENV)
