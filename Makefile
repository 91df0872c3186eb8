# `make train` and `make test` set everything up on first use (see README.md).
PYTHON ?= python3
VENV ?= .venv
TORCH_REQUIREMENT ?= torch==2.13.0
DGL_REQUIREMENT ?= dgl==1.1.3
JOB_DIR ?= build/opt_ml
HYPERPARAMETERS ?=
PYTEST_ARGS ?=

.PHONY: train test setup clean

setup: $(VENV)/.installed

# torch first and pinned (an open range pulls the CUDA build), then DGL, then this package.
$(VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q "$(TORCH_REQUIREMENT)"
	$(VENV)/bin/pip install -q "$(DGL_REQUIREMENT)" -e ".[test]"
	touch $@

train: $(VENV)/.installed
	$(VENV)/bin/sagemaker-dgl local --base-dir $(JOB_DIR) $(HYPERPARAMETERS)

test: $(VENV)/.installed
	$(VENV)/bin/pytest $(PYTEST_ARGS)

clean:
	rm -rf build
