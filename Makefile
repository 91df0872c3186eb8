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
	$(VENV)/bin/pip install -q "$(DGL_REQUIREMENT)" -e ".[cpu,test]"
	touch $@

train: $(VENV)/.installed
	$(VENV)/bin/sagemaker-dgl local --base-dir $(JOB_DIR) $(HYPERPARAMETERS)

test: $(VENV)/.installed
	$(VENV)/bin/pytest $(PYTEST_ARGS)

clean:
	rm -rf build

# --- Training images (Dockerfile; README "The training image") -----------------------------
# make image       GPU: CUDA 12.4, torch 2.4.0+cu124, dgl 2.4.0+cu124 (pinned in the Dockerfile)
# make image-cpu   CPU: torch 2.13.0+cpu, dgl 1.1.3; BASE_IMAGE=... overrides the base of either
DOCKER ?= docker
IMAGE_NAME ?= sagemaker-dgl
BASE_IMAGE ?=
CPU_BASE_IMAGE ?= debian:bookworm-slim
CPU_TORCH_REQUIREMENT ?= torch==2.13.0+cpu
# Empty it where pip already finds the CPU wheel (a wheelhouse in pip.conf) and the index is unreachable.
CPU_TORCH_INDEX_URL ?= https://download.pytorch.org/whl/cpu
CPU_DGL_REQUIREMENT ?= $(DGL_REQUIREMENT)
DOCKER_BUILD_ARGS ?=

.PHONY: image image-cpu

image:
	$(DOCKER) build $(if $(BASE_IMAGE),--build-arg BASE_IMAGE=$(BASE_IMAGE)) $(DOCKER_BUILD_ARGS) \
	  -t $(IMAGE_NAME):gpu .

image-cpu:
	$(DOCKER) build --build-arg BASE_IMAGE=$(or $(BASE_IMAGE),$(CPU_BASE_IMAGE)) \
	  --build-arg TORCH_REQUIREMENT=$(CPU_TORCH_REQUIREMENT) \
	  --build-arg TORCH_INDEX_URL=$(CPU_TORCH_INDEX_URL) \
	  --build-arg DGL_REQUIREMENT=$(CPU_DGL_REQUIREMENT) \
	  --build-arg DGL_FIND_LINKS= \
	  --build-arg "BUILD_CHECK_ARGS=--cuda none" \
	  $(DOCKER_BUILD_ARGS) -t $(IMAGE_NAME):cpu .
