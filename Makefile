# Set-up and the two everyday commands: `make demo` and `make test`.
# Each builds the virtual environment on first use (CPU torch pinned by constraints.txt).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# This machine keeps the CPU torch wheel in /opt/wheels; elsewhere pip finds it on PyPI.
FIND_LINKS := $(if $(wildcard /opt/wheels),--find-links /opt/wheels,)
PIP := $(BIN)/python -m pip install $(FIND_LINKS) -c constraints.txt
DEMO_OUT ?= demo_out

.PHONY: install demo test lint clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(PIP) --quiet "torch==2.13.0"
	$(PIP) --quiet -e ".[test]"
	touch $@

demo: install
	$(BIN)/sora-vfx shots sample_edls/sequence_24fps.edl --shot-sheet sample_edls/shot_sheet.toml

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check sora_vfx tests

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache
