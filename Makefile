# The two commands of the quick start:
#   make demo   install, then run the demo shop behind the edge and print the URL to open
#   make test   install (incl. Chromium for the browser tests), then run every test
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test install install-test bench lint

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -q -e .

install-test: $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'

demo: install
	$(BIN)/edge demo

test:
	bash scripts/test.sh

bench: install-test
	$(BIN)/python loadtests/bench.py

lint: install-test
	$(BIN)/ruff check edge rules widgets cache tests loadtests
	$(BIN)/mypy
