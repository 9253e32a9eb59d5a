# The two commands: `make demo` (the pipeline end to end on the sample agency data) and
# `make test`. Both create the environment first; everything else is a building block.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
UI_PORT ?= 8080

.PHONY: demo test check venv lint ui ckan-up ckan-down ckan-status clean

demo: venv
	$(BIN)/python -m devstack.samples.demo

test: venv
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

# The Airflow UI on http://127.0.0.1:$(UI_PORT), on the demo's data, sources and portal; Ctrl-C stops it.
ui: venv
	$(BIN)/python -m devstack.airflow_ui --port $(UI_PORT)

# Lint (with the complexity rule) and type-check (mypy strict on satudata and transforms).
check: venv
	$(BIN)/ruff check .
	$(BIN)/mypy

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

# Re-resolve the pins after editing requirements.in.
lock: venv
	$(BIN)/uv pip compile --quiet requirements.in -p 3.11 -o requirements.lock

lint: venv
	$(BIN)/ruff check .

ckan-up:
	$(PYTHON) devstack/ckanstack.py up

ckan-down:
	$(PYTHON) devstack/ckanstack.py down

ckan-status:
	$(PYTHON) devstack/ckanstack.py status

clean:
	rm -rf data .airflow
