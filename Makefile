# fabkd: every target creates .venv (with the pinned torch pair) when it is missing.
SHELL := /bin/bash
PY    := .venv/bin/python
BIN   := .venv/bin
STAMP := .venv/.fabkd-installed
export OMP_NUM_THREADS ?= 2
export MPLBACKEND ?= Agg

.PHONY: venv study test lab bench clean-venv

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install -q --upgrade pip
	# a matched pair that pip installs from this machine's local wheels
	$(PY) -m pip install -q torch==2.14.1 torchvision==0.29.1
	$(PY) -m pip install -q -e ".[dev]"
	@touch $(STAMP)

venv: $(STAMP)

## the default study on the embedded dataset
study: $(STAMP)
	$(BIN)/fabkd quickstart

## notebooks in sync, notebook tests (slow cells skipped), then pytest
test: $(STAMP)
	$(PY) tools/check_sync.py
	$(BIN)/nbdev-test --n-workers 2 --timing
	$(BIN)/pytest -q

## speed/size ratios measured side by side (2 threads, after warm-up) -> bench/latest.json
bench: $(STAMP)
	$(BIN)/fabkd bench

## JupyterLab with the project importable
lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=.

clean-venv:
	rm -rf .venv
