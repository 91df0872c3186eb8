# SageMaker training image for sagemaker-dgl: graph neural networks with DGL.
#
# One file, two variants chosen by build args (see README, "The training image"):
#   GPU (default)  make image      CUDA 12.4 runtime, Ubuntu 22.04, torch 2.4.0+cu124, dgl 2.4.0+cu124
#   CPU            make image-cpu  Debian bookworm, torch 2.13.0+cpu, dgl 1.1.3
# DGL publishes one wheel per PyTorch minor version and CUDA version, and a DGL wheel only loads
# with the PyTorch it was built against, so torch, its index, DGL and its index are pinned
# together; container/build_check.py fails the build when they do not match.
#
# Works with the classic builder (no BuildKit-only syntax). Any Debian or Ubuntu base works:
# python3 and venv are installed from the distribution when the base lacks them.

ARG BASE_IMAGE=nvidia/cuda:12.4.1-runtime-ubuntu22.04

# ---------------------------------------------------------------------------------------------
# Stage 1 (build): what needs a compiler, so that gcc and headers stay out of the image.
#  - the hostname shim (container/hostname/sagemaker_hostname.c);
#  - a wheel of sagemaker-training, which PyPI ships as a source distribution with a C extension.
# ---------------------------------------------------------------------------------------------
FROM ${BASE_IMAGE} AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ENV DEBIAN_FRONTEND=noninteractive PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# Unpinned distribution packages on purpose: the base image fixes the release, and the release's
# own updates are what should be installed (hadolint DL3008).
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev python3 python3-dev python3-venv \
 && rm -rf /var/lib/apt/lists/*
COPY container/hostname/sagemaker_hostname.c /build/
RUN mkdir -p /out/wheels \
 && gcc -O2 -Wall -Wextra -Werror -shared -fPIC -o /out/libsagemaker_hostname.so /build/sagemaker_hostname.c -ldl
# The sagemaker-training requirement is read from pyproject.toml, its one source of truth.
COPY pyproject.toml /build/
# The wheels leave this stage as one tar file: a single file is cached by content, a folder
# copied from another stage is not always (podman/buildah).
RUN requirement="$(grep -o '"sagemaker-training[^"]*"' /build/pyproject.toml | tr -d '"')" \
 && test -n "$requirement" \
 && python3 -m venv /build/venv \
 && /build/venv/bin/pip wheel --use-pep517 --no-deps --wheel-dir /out/wheels "$requirement" \
 && tar -C /out/wheels -cf /out/wheels.tar .

# ---------------------------------------------------------------------------------------------
# Stage 2: the image. Layers from the least to the most often changed:
# Python -> torch -> DGL -> this package's dependencies -> this package's source.
# ---------------------------------------------------------------------------------------------
FROM ${BASE_IMAGE}
SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# torch: a pinned requirement and the index that holds that build (empty: PyPI and pip.conf).
ARG TORCH_REQUIREMENT=torch==2.4.0+cu124
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cu124
# DGL: a pinned requirement and the wheel page that holds that build (empty: PyPI).
ARG DGL_REQUIREMENT=dgl==2.4.0+cu124
ARG DGL_FIND_LINKS=https://data.dgl.ai/wheels/torch-2.4/cu124/repo.html
# What container/build_check.py asserts about the pair ("--cuda none" for the CPU variant).
ARG BUILD_CHECK_ARGS="--cuda 12.4 --exact-torch-match"

LABEL org.opencontainers.image.title="sagemaker-dgl" \
      org.opencontainers.image.description="SageMaker training container for graph neural networks with DGL" \
      org.opencontainers.image.licenses="Apache-2.0" \
      sagemaker-dgl.torch="${TORCH_REQUIREMENT}" \
      sagemaker-dgl.dgl="${DGL_REQUIREMENT}"

ENV DEBIAN_FRONTEND=noninteractive \
    PATH=/opt/venv/bin:${PATH} \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DGLBACKEND=pytorch

# Python and a virtual environment (PEP 668: no pip into the distribution's Python).
# Distribution packages unpinned, as in stage 1 (hadolint DL3008).
# hadolint ignore=DL3008
RUN if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then \
      apt-get update \
      && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
      && rm -rf /var/lib/apt/lists/*; \
    fi \
 && python3 -m venv /opt/venv

# torch first, pinned: an open requirement would pull PyPI's default (CUDA) build. The pin is in
# the build arg, which hadolint cannot see (DL3013).
# hadolint ignore=DL3013
RUN pip install ${TORCH_INDEX_URL:+--extra-index-url "$TORCH_INDEX_URL"} "$TORCH_REQUIREMENT" \
 && pip freeze | grep -i '^torch==' > /opt/venv/constraints.txt

# DGL for exactly that torch (DGL 1.x imports packaging without declaring it), then the check.
COPY container/build_check.py /opt/sagemaker-dgl/build_check.py
RUN pip install -c /opt/venv/constraints.txt ${DGL_FIND_LINKS:+--find-links "$DGL_FIND_LINKS"} \
      "$DGL_REQUIREMENT" "packaging>=23" \
 && pip freeze | grep -i '^dgl==' >> /opt/venv/constraints.txt \
 && python /opt/sagemaker-dgl/build_check.py ${BUILD_CHECK_ARGS}

# This package's dependencies, from pyproject.toml alone (a stub package with the same metadata),
# so that editing the source does not reinstall them. sagemaker-training comes from stage 1.
COPY --from=build /out/libsagemaker_hostname.so /usr/local/lib/libsagemaker_hostname.so
COPY --from=build /out/wheels.tar /tmp/wheels.tar
COPY pyproject.toml /tmp/stub/pyproject.toml
RUN mkdir -p /tmp/stub/src/sagemaker_dgl /tmp/wheels \
 && tar -xf /tmp/wheels.tar -C /tmp/wheels \
 && touch /tmp/stub/README.md /tmp/stub/src/sagemaker_dgl/__init__.py \
 && pip install -c /opt/venv/constraints.txt "setuptools>=77" \
 && pip install -c /opt/venv/constraints.txt --no-build-isolation \
      --find-links /tmp/wheels --only-binary sagemaker-training /tmp/stub \
 && pip uninstall -y sagemaker-dgl \
 && rm -rf /tmp/stub /tmp/wheels /tmp/wheels.tar

# This package. Installed after sagemaker-training, so `train` on PATH is sagemaker_dgl.cli:train.
COPY pyproject.toml README.md /tmp/src/
COPY src/ /tmp/src/src/
RUN pip install --no-deps --no-build-isolation /tmp/src \
 && rm -rf /tmp/src \
 && python /opt/sagemaker-dgl/build_check.py ${BUILD_CHECK_ARGS} --package

# SAGEMAKER_TRAINING_MODULE: what the toolkit's trainer runs. LD_PRELOAD: gethostname() returns
# current_host from resourceconfig.json (needed by NCCL/Gloo on multi-instance jobs; falls back
# to the kernel's name outside a job). PIP_CONSTRAINT: an image that extends this one cannot
# replace torch or DGL by accident (unset it to change them on purpose).
ENV SAGEMAKER_TRAINING_MODULE=sagemaker_dgl.training:main \
    LD_PRELOAD=/usr/local/lib/libsagemaker_hostname.so \
    PIP_CONSTRAINT=/opt/venv/constraints.txt

# SageMaker runs `docker run IMAGE train`; SDK 3.x local mode passes no command, hence CMD.
# Exec form: `train` is PID 1 and receives SIGTERM itself (the trainer checkpoints on it).
CMD ["train"]
