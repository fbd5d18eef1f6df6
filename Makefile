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

.PHONY: run test bundle bundle-smoke archive install uninstall clean

run: $(VENV)/.stamp-run
	$(VENV)/bin/eczema-tracker-gui

test: $(VENV)/.stamp-test
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

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

clean:
	rm -rf $(VENV) build dist
