# Two commands do all set-up on a fresh machine:
#   make demo   venv + install + plugin build + train + export + LAMMPS MD  (outputs in runs/demo/)
#   make test   the test suite (builds what it needs)
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
PIP     = $(PY) -m pip
# torch must be pinned in every pip call: any looser spec pulls a multi-GB CUDA build.
TORCH   = torch==2.13.0
PYTEST_ARGS ?=

.PHONY: all venv install demo test benchmark clean

all: install

$(VENV)/.deps: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	# build requirements first: the plugin is built with --no-build-isolation against this torch
	$(PIP) install $(TORCH) scikit-build-core 'lammps[mpi]==2025.7.22.4.0' mpich pytest
	touch $@

venv: $(VENV)/.deps

install: venv
	$(PIP) install --no-build-isolation '.[lammps,test]' $(TORCH)

demo: install
	$(PY) -m mlip_lammps.workflows.demo --config examples/configs/cu_demo.yaml --out runs/demo

# pytest's own exit code propagates: "no tests collected" (5) fails the target.
test: install
	$(PY) -m pytest -ra $(PYTEST_ARGS)

clean:
	rm -rf build runs .pytest_cache
