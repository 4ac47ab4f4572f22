# interdit — the two commands a new user needs are `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test check bench docs i18n clean system-deps

# constraints.txt holds the versions the suite last passed with, so a fresh machine gets the same ones
$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' -c constraints.txt
	@touch $(STAMP)

# Debian packages the tests use for real parts (PostgreSQL, DNS servers). Installed only when missing.
system-deps:
	@bash scripts/system-deps.sh

demo: $(STAMP)
	$(BIN)/interdit demo --out demo-output

test: $(STAMP) system-deps
	$(BIN)/python -m pytest -n 2 --dist loadfile -q

check: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python scripts/i18n.py check

bench: $(STAMP)
	$(BIN)/python -m bench

docs: $(STAMP)
	$(BIN)/python -m interdit.cli.docgen > docs/cli.md

i18n: $(STAMP)
	$(BIN)/python scripts/i18n.py compile

clean:
	rm -rf $(VENV) demo-output .pytest_cache .mypy_cache .ruff_cache
