# Two commands from a fresh clone (only Python >= 3.10 needed):
#   make run    sets up .venv/ inside the checkout and opens the app
#   make test   sets up .venv/ and runs the test suite
# Set-up runs again only when pyproject.toml changed (stamp files in .venv/).
# Another torch build: `make run TORCH="torch==2.13.0" TORCH_PIP_ARGS="--index-url URL"`.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TORCH ?= torch==2.13.0
TORCH_PIP_ARGS ?=

VERSION = $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
STAGE = eczema-tracker-$(VERSION)
ARCHIVE = dist/$(STAGE)-linux-$(shell uname -m).tar.gz

.PHONY: run test check bundle bundle-build bundle-smoke archive install uninstall clean

run: $(VENV)/.stamp-run
	$(VENV)/bin/eczema-tracker-gui

test: $(VENV)/.stamp-test
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

# Lint, format, layers (import-linter) and types (mypy), without the tests (make test runs them too).
check: $(VENV)/.stamp-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy

# torch first, pinned, so pip never resolves an unpinned (multi-GB CUDA) build for the project.
$(VENV)/.stamp-torch:
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q "$(TORCH)" $(TORCH_PIP_ARGS)
	touch $@

$(VENV)/.stamp-run: pyproject.toml $(VENV)/.stamp-torch
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.stamp-test: pyproject.toml $(VENV)/.stamp-torch
	$(PY) -m pip install -q -e ".[test]"
	touch $@

# One-folder desktop build (PyInstaller), its smoke test, and the Linux archive.
bundle: bundle-build bundle-smoke archive

bundle-build: $(VENV)/.stamp-bundle
	rm -rf dist/eczema-tracker
	$(VENV)/bin/pyinstaller --noconfirm --log-level WARN --distpath dist \
		--workpath build/pyinstaller packaging/eczema_tracker.spec
	du -sh dist/eczema-tracker

bundle-smoke: $(VENV)/.stamp-bundle
	$(PY) tools/smoke_bundle.py dist/eczema-tracker/eczema-tracker

archive:
	rm -rf build/archive && mkdir -p build/archive/$(STAGE)
	cp -R dist/eczema-tracker build/archive/$(STAGE)/eczema-tracker
	cp packaging/eczema-tracker.desktop packaging/install.sh build/archive/$(STAGE)/
	cp eczema_tracker/resources/icons/eczema-tracker-256.png build/archive/$(STAGE)/eczema-tracker.png
	tar -C build/archive -czf $(ARCHIVE) $(STAGE)
	ls -l $(ARCHIVE)

# The user's menu entry and icons for the build in dist/ (sh packaging/install.sh --uninstall).
install:
	sh packaging/install.sh dist/eczema-tracker

uninstall:
	sh packaging/install.sh --uninstall

$(VENV)/.stamp-bundle: pyproject.toml $(VENV)/.stamp-torch
	$(PY) -m pip install -q -e ".[test,bundle]"
	touch $@

clean:
	rm -rf $(VENV) build dist
