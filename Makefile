# The two commands a fresh machine needs: `make test` and `make demo`.
# Both create the local virtual environment (.venv) from requirements.txt when it is missing
# or older than requirements.txt.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-requirements
# Tools that nbgrader starts by name (alembic, jupyter) must come from the venv.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: test demo venv notebooks lab bench clean

venv: $(STAMP)

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check uv
	@$(PY) -m uv pip install -q --compile-bytecode -p $(PY) -r requirements.txt
	@touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest

demo: $(STAMP)
	$(PY) -m backprop_lib.demo

# Regenerate solutions/*/ generated cells from backprop_lib, then the student releases in notebooks/.
notebooks: $(STAMP)
	$(PY) -m courseware sync
	$(PY) -m courseware build

# JupyterLab on the student notebooks, with backprop_lib importable from the project root.
lab: $(STAMP)
	PYTHONPATH=$(CURDIR) $(VENV)/bin/jupyter lab notebooks/

bench: $(STAMP)
	@$(PY) -m pip install -q --disable-pip-version-check -r benchmarks/requirements.txt  # pip, not uv: torch 2.13.0 CPU lies on disk for pip
	$(PY) benchmarks/mlp_speed.py

clean:
	rm -rf out .pytest_cache .hypothesis
