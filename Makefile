# The two commands a fresh machine needs: `make test` and `make demo`.
# Both create the local virtual environment (.venv) from requirements.txt when it is missing
# or older than requirements.txt.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-requirements
# Tools that nbgrader starts by name (alembic, jupyter) must come from the venv.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: test demo venv notebooks lab lectures bench clean

venv: $(STAMP)

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check uv
	@$(PY) -m uv pip install -q --compile-bytecode -p $(PY) -r requirements.txt
	@touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest

# The kit end to end: the student release regenerated from solutions/, the lecture's figures,
# then a synthetic class of 30 (correct, typical mistakes, unfinished, broken, missing, a cheat)
# graded in the sandbox, printing where the grades, feedback and report are.
demo: $(STAMP)
	$(PY) -m courseware build
	$(PY) -m backprop_lib.demo --out out
	rm -rf out/class
	$(PY) -m tools.demo_class out/class/submitted --n 30
	$(PY) -m autograder grade out/class/submitted --output out/class/graded

# Regenerate solutions/*/ generated cells from backprop_lib, then the student releases in notebooks/.
notebooks: $(STAMP)
	$(PY) -m courseware sync
	$(PY) -m courseware build

# JupyterLab on fresh copies of the student folders in out/lab/ (replaced each time), as a
# student sees them: each folder alone with its own backprop_lib/, no PYTHONPATH, nothing of the
# kit importable (the venv does not install it).
lab: $(STAMP)
	rm -rf out/lab && mkdir -p out/lab && cp -R notebooks/. out/lab/
	cd out/lab && env -u PYTHONPATH $(CURDIR)/$(VENV)/bin/jupyter lab --ServerApp.root_dir=. \
		$(if $(filter 0,$(shell id -u)),--allow-root)

# JupyterLab on the lecturer's live demos: fresh copies of lectures/*.ipynb in out/lectures/
# (a lecture's saved outputs and widget PNGs stay out of git), the kit importable from the root.
lectures: $(STAMP)
	rm -rf out/lectures && mkdir -p out/lectures && cp lectures/*.ipynb out/lectures/
	cd out/lectures && PYTHONPATH=$(CURDIR) $(CURDIR)/$(VENV)/bin/jupyter lab --ServerApp.root_dir=. $(if $(filter 0,$(shell id -u)),--allow-root)

bench: $(STAMP)
	@$(PY) -m pip install -q --disable-pip-version-check -r benchmarks/requirements.txt  # pip, not uv: torch 2.13.0 CPU lies on disk for pip
	$(PY) benchmarks/mlp_speed.py

clean:
	rm -rf out .pytest_cache .hypothesis
