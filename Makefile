# Set-up and the two everyday commands: `make demo` and `make test`.
# Each builds the virtual environment on first use (CPU torch pinned by constraints.txt).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# This machine keeps the CPU torch wheel in /opt/wheels; elsewhere pip finds it on PyPI.
FIND_LINKS := $(if $(wildcard /opt/wheels),--find-links /opt/wheels,)
PIP := $(BIN)/python -m pip install $(FIND_LINKS) -c constraints.txt
DEMO_OUT ?= demo_out
# The Blender shim's tests run inside the real bpy module from PyPI: its own venv (it pins numpy 1.26).
VENV_BLENDER ?= .venv-blender
BLENDER_PYTHON ?= $(PYTHON)

.PHONY: install sysdeps demo test lint clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(PIP) --quiet "torch==2.13.0"
	$(PIP) --quiet -e ".[test,farm,speed,publish,docs]"
	touch $@

# The publish tests run a real Kitsu server: zou (its API server) from PyPI, in its own venv
# (its pins are not ours), on the PostgreSQL and Redis that sysdeps installs.
VENV_KITSU ?= .venv-kitsu
ZOU_VERSION ?= 1.0.97
$(VENV_KITSU)/.installed:
	test -x $(VENV_KITSU)/bin/python || $(PYTHON) -m venv $(VENV_KITSU)
	$(VENV_KITSU)/bin/python -m pip install --quiet --upgrade pip
	$(VENV_KITSU)/bin/python -m pip install --quiet "zou==$(ZOU_VERSION)"
	touch $@

# bpy 5.0.1 is a ~820 MB wheel for Python 3.11 only; tests/plugins/test_blender.py uses it.
$(VENV_BLENDER)/.installed:
	test -x $(VENV_BLENDER)/bin/python || $(BLENDER_PYTHON) -m venv $(VENV_BLENDER)
	$(VENV_BLENDER)/bin/python -m pip install --quiet --upgrade pip
	$(VENV_BLENDER)/bin/python -m pip install --quiet "bpy==5.0.1"
	touch $@

# Tests check our EXRs with readers we did not write: OpenEXR's exrheader and oiiotool;
# the review page is opened in a real headless Chromium; the publish tests start PostgreSQL,
# Redis and a Kitsu server, which probes movies with ffprobe.
SYSTEM_TOOLS := exrheader oiiotool chromium redis-server ffprobe pg_ctlcluster
SYSTEM_PACKAGES := openexr openimageio-tools chromium postgresql redis-server ffmpeg
sysdeps:
	@missing=""; for tool in $(SYSTEM_TOOLS); do command -v $$tool >/dev/null || missing=1; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES); \
	  else \
	    echo "tests need Debian packages: sudo apt-get install $(SYSTEM_PACKAGES)"; exit 1; \
	  fi; \
	fi

# The demo edit is written in the shapes grammar and rendered with the trained built-in model;
# SHP_0040 has a reference image, so it renders with the image-to-video twin.
demo: install
	$(BIN)/sora-vfx shots sample_edls/shapes_24fps.edl --handles 4
	$(BIN)/sora-vfx render sample_edls/shapes_24fps.edl --handles 4 --model shapes -o $(DEMO_OUT)
	$(BIN)/sora-vfx eval $(DEMO_OUT)

test: install sysdeps $(VENV_BLENDER)/.installed $(VENV_KITSU)/.installed
	$(BIN)/lint-imports --no-cache --no-logo
	$(BIN)/python -m pytest -q

# Speed and memory side by side with bare baselines (issue 7): a table and benchmarks/results.json.
bench: install sysdeps
	$(BIN)/python benchmarks/run.py

# The Nuke plugin folder and the Blender extension (folder and zip), ready to install: docs/plugins.md.
# Standard library only (no venv); plugins/common/ is copied into both hosts' packages here.
PLUGINS_OUT ?= build/plugins
.PHONY: plugins
plugins:
	$(PYTHON) plugins/package.py $(PLUGINS_OUT)

# The documentation site (mkdocs, material theme) into site/: open site/index.html. `make test`
# builds it in strict mode (tests/test_docs.py), so a broken link or anchor fails the tests.
.PHONY: docs
docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

lint: install
	$(BIN)/ruff check sora_vfx tests

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache
