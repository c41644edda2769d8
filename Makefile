# The two commands a fresh machine needs: `make test` and `make demo`.
# Both create the local virtual environment (.venv) from requirements.txt when it is missing
# or older than requirements.txt.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-requirements

.PHONY: test demo venv notebooks check-notebooks bench clean

venv: $(STAMP)

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check uv
	@$(PY) -m uv pip install -q -p $(PY) -r requirements.txt
	@touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest

demo: $(STAMP)
	$(PY) -m backprop_lib.demo

bench: $(STAMP)
	@$(PY) -m uv pip install -q -p $(PY) -r benchmarks/requirements.txt
	$(PY) benchmarks/mlp_speed.py

clean:
	rm -rf out .pytest_cache .hypothesis
