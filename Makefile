# Two commands matter: `make run` (the embedded demo) and `make test` (the suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test test-all bench system-deps train evaluate clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

# Debian packages the browser and Redis tests need; skipped when already present.
system-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! command -v redis-server >/dev/null 2>&1; then \
		if [ "$$(id -u)" = "0" ]; then SUDO=""; else SUDO="sudo"; fi; \
		$$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium redis-server; \
	fi

run: $(STAMP)
	$(PY) run_companion.py

test: $(STAMP) system-deps
	$(PY) -m pytest -q

test-all: $(STAMP) system-deps
	$(PY) -m pytest -q -m ''

bench: $(STAMP)
	$(PY) -m benchmarks.pipeline
	$(PY) -m benchmarks.memory

train: $(STAMP)
	$(PY) -m companion.affect.train --data ../shared/data

evaluate: $(STAMP)
	$(PY) -m companion.affect.evaluate --data ../shared/data --out metrics.json

clean:
	rm -rf $(VENV) companion-data
