# The two commands of the README.  Each creates .venv (Python >= 3.11) and
# installs the project into it when pyproject.toml changed.
PYTHON ?= python3
VENV   ?= .venv
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint bench

run: $(VENV)/.installed
	$(VENV)/bin/sanhu run --host $(HOST) --port $(PORT)

test: $(VENV)/.installed
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache

bench: $(VENV)/.installed
	$(VENV)/bin/python -m bench.benchmark $(BENCH_ARGS)

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ needed"'
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -e '.[test,bench]'
	touch $@
