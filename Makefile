# Set-up and the two everyday commands: `make demo` and `make test`.
# Each builds the virtual environment on first use (CPU torch pinned by constraints.txt).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# This machine keeps the CPU torch wheel in /opt/wheels; elsewhere pip finds it on PyPI.
FIND_LINKS := $(if $(wildcard /opt/wheels),--find-links /opt/wheels,)
PIP := $(BIN)/python -m pip install $(FIND_LINKS) -c constraints.txt
DEMO_OUT ?= demo_out

.PHONY: install sysdeps demo test lint clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(PIP) --quiet "torch==2.13.0"
	$(PIP) --quiet -e ".[test]"
	touch $@

# Tests check our EXRs with readers we did not write: OpenEXR's exrheader and oiiotool.
SYSTEM_TOOLS := exrheader oiiotool
SYSTEM_PACKAGES := openexr openimageio-tools
sysdeps:
	@missing=""; for tool in $(SYSTEM_TOOLS); do command -v $$tool >/dev/null || missing=1; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES); \
	  else \
	    echo "tests need Debian packages: sudo apt-get install $(SYSTEM_PACKAGES)"; exit 1; \
	  fi; \
	fi

demo: install
	$(BIN)/sora-vfx shots sample_edls/sequence_24fps.edl --shot-sheet sample_edls/shot_sheet.toml
	$(BIN)/sora-vfx render sample_edls/sequence_24fps.edl --shot-sheet sample_edls/shot_sheet.toml -o $(DEMO_OUT)

test: install sysdeps
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check sora_vfx tests

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache
