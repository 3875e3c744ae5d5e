# fabkd: every target creates .venv (with the pinned torch pair) when it is missing.
SHELL := /bin/bash
PY    := .venv/bin/python
BIN   := .venv/bin
STAMP := .venv/.fabkd-installed
export OMP_NUM_THREADS ?= 2
export MPLBACKEND ?= Agg

.PHONY: venv study test lab bench site browser clean-venv

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install -q --upgrade pip
	# a matched pair that pip installs from this machine's local wheels
	$(PY) -m pip install -q torch==2.14.1 torchvision==0.29.1
	$(PY) -m pip install -q -e ".[dev]"
	@touch $(STAMP)

venv: $(STAMP)

## seed 000's study at the cpu preset (embedded data, students two at a time (train_jobs 2), teacher banked: 37.4 min on a 2-core Intel Xeon with AMX, run 20261205-021454-aeee7a (40.0 in run 20261204-201818-ae97e5, whose teacher `fabkd teachers build` had trained into a cold bank in 11.9 min just before); 41.0 min on a 2-core AMD EPYC with AVX-512 with the earlier one-cycle transfer students, run 20261204-084117-86bcac) -> reports/_runs/fabgaurd_defects/<run-id>/
study: $(STAMP)
	$(BIN)/fabkd study run fabgaurd_defects --preset cpu

## publish the latest run of each study and render the site (Quarto if installed, else an HTML preview in _site/)
site: $(STAMP)
	$(BIN)/fabkd site

## Debian's chromium + chromedriver for the site test (apt; needs root or sudo)
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 || \
	  { $$SUDO apt-get update -q >/dev/null && $$SUDO apt-get install -y -q chromium chromium-driver >/dev/null; }; }

## notebooks in sync, notebook tests (slow cells skipped), then pytest
test: $(STAMP) browser
	$(PY) tools/check_sync.py
	# two notebooks at a time, one torch thread each: two 2-thread kernels on 2 cores took 252 s against 211 (one run each, AMD EPYC with AVX-512, alone)
	OMP_NUM_THREADS=1 $(BIN)/nbdev-test --n-workers 2 --timing
	$(BIN)/pytest -q --durations=12

## speed/size ratios measured side by side (2 threads, after warm-up) -> bench/latest.json
bench: $(STAMP)
	$(BIN)/fabkd bench

## JupyterLab with the project importable
lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=.

clean-venv:
	rm -rf .venv
