# Two commands from a fresh clone (only Python >= 3.10 needed):
#   make run    sets up .venv/ inside the checkout and opens the app
#   make test   sets up .venv/ and runs the test suite
# Set-up runs again only when pyproject.toml or constraints.txt changed (stamp files in .venv/).
# Every package is installed at the version constraints.txt names (the lock), so a new upstream
# release cannot change the app or CI overnight; `make lock` updates it deliberately (README).
# Another torch build: `make run TORCH="torch==2.13.0" TORCH_PIP_ARGS="--index-url URL"`.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TORCH ?= torch==2.13.0
TORCH_PIP_ARGS ?=
LOCK := constraints.txt
LOCK_VENV := .venv-lock

VERSION = $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
STAGE = eczema-tracker-$(VERSION)
ARCHIVE = dist/$(STAGE)-linux-$(shell uname -m).tar.gz

.PHONY: run test check lock bundle bundle-build bundle-smoke archive install uninstall clean

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
	$(PY) tools/install_torch.py "$(TORCH)" $(TORCH_PIP_ARGS)
	touch $@

$(VENV)/.stamp-run: pyproject.toml $(LOCK) $(VENV)/.stamp-torch
	@echo "Installing Eczema Tracker and its packages (Qt, transformers, matplotlib, ...) into $(VENV)/:"
	@echo "about 700 MB on disk besides torch. The models (about 1.9 GB) are downloaded later, from the app."
	$(PY) -m pip install --progress-bar on -c $(LOCK) -e .
	touch $@

$(VENV)/.stamp-test: pyproject.toml $(LOCK) $(VENV)/.stamp-torch
	@echo "Installing Eczema Tracker with its test tools into $(VENV)/: about 1.3 GB on disk besides torch."
	$(PY) -m pip install --progress-bar on -c $(LOCK) -e ".[test]"
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

$(VENV)/.stamp-bundle: pyproject.toml $(LOCK) $(VENV)/.stamp-torch
	@echo "Installing Eczema Tracker with its test tools and PyInstaller into $(VENV)/."
	$(PY) -m pip install --progress-bar on -c $(LOCK) -e ".[test,bundle]"
	touch $@

# Update the lock on purpose: resolve the newest releases that pyproject.toml allows in a throw-away
# venv (torch pinned as above, and left out of the lock so another torch build can be chosen),
# write them to constraints.txt, then check them with `make clean test bundle` before committing.
lock:
	rm -rf $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python tools/install_torch.py "$(TORCH)" $(TORCH_PIP_ARGS)
	$(LOCK_VENV)/bin/python -m pip install -q -e ".[test,bundle]"
	{ echo "# The lock: every package the app, its tests and the desktop build install, at the"; \
	  echo "# version checked with them (make test, make bundle and its smoke test). The Makefile"; \
	  echo "# installs with pip's -c $(LOCK). Update it only with 'make lock' (see README)."; \
	  echo "# torch is pinned in the Makefile (TORCH) and left out here."; \
	  $(LOCK_VENV)/bin/python -m pip freeze --exclude-editable \
	    | grep -viE '^(torch|nvidia-[a-z0-9-]*|triton)==' | LC_ALL=C sort -f; } > $(LOCK)
	rm -rf $(LOCK_VENV)
	@echo "wrote $(LOCK); now run: make clean test bundle"

clean:
	rm -rf $(VENV) $(LOCK_VENV) build dist
