# crmsync: `make demo` and `make test` work on a fresh machine with Python 3.11.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test test-all clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; assert v == (3, 11), f"crmsync needs Python 3.11, found {v[0]}.{v[1]} (set PYTHON=...)"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

demo: install
	$(BIN)/crmsync run --sandbox --warehouse crmsync.duckdb
	$(BIN)/crmsync segments list --warehouse crmsync.duckdb
	@echo
	@echo "Open the warehouse (read-only while nothing writes to it):"
	@echo "  $(BIN)/crmsync sql --warehouse crmsync.duckdb    # DuckDB's shell; or: crmsync sql \"SHOW ALL TABLES\""
	@echo "Its state: $(BIN)/crmsync status --warehouse crmsync.duckdb [--check]"
	@echo "The docs page (models, lineage, segments over time, a person's history):"
	@echo "  $(BIN)/crmsync docs --warehouse crmsync.duckdb --serve"

test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -m "not slow"

test-all: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) crmsync.duckdb .pytest_cache
