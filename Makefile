# One entry point for people and CI. `make test` on a fresh machine installs
# everything it needs (uv, the locked virtualenv, the Pulumi toolchain) first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

CACHE ?= $(or $(SONGGEN_CACHE),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/songgen-studio-fly)
export SONGGEN_CACHE := $(CACHE)
UV_HOME := $(CACHE)/uv
UV := $(UV_HOME)/bin/uv
UV_VERSION := 0.9.30
VENV := .venv
PY := $(VENV)/bin/python
TOOLS_PATH_FILE := $(VENV)/.tools-path

# make's own targets (tests, sandbox, benchmarks) never fetch plugins or check for updates.
# `make env` does not pass this on: a real deploy may need the engine to download a plugin.
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION := true
export PULUMI_SKIP_UPDATE_CHECK := true
export PULUMI_PYTHON_CMD := $(abspath $(PY))

.PHONY: help setup env test lint typecheck sandbox bench bench-fill wait clean
help:
	@echo "make setup     install uv, the virtualenv, the Pulumi toolchain, the Kubernetes provider plugin and"
	@echo "               the local control plane the tests run against (idempotent; the first run builds for minutes)"
	@echo "make test      setup, then lint, type-check and run every test"
	@echo "make sandbox   the whole lifecycle offline, per platform against its bundled stand-in (PLATFORM= picks one)"
	@echo "make bench     lifecycle benchmarks against the emulator"
	@echo "make bench-fill  the entrypoint's volume fill against the Hub stand-in (a few GB, a few minutes)"
	@echo "make env       print exports that put the toolchain on PATH: source <(make -s env)"
	@echo "make wait      after up: wait until the Studio answers, e.g. make wait STACK=dev"

$(UV):
	python3 -m venv $(UV_HOME)
	$(UV_HOME)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

setup: $(UV)
	$(UV) sync --frozen --quiet
	bash scripts/setup-tools.sh > $(TOOLS_PATH_FILE)
	kube=$$($(with_tools) bash scripts/setup-kube.sh) && echo "$$(cat $(TOOLS_PATH_FILE))$${kube:+:$$kube}" > $(TOOLS_PATH_FILE)
	@mkdir -p state  # the default local state backend (Pulumi.yaml: file://./state)

with_tools = PATH="$$(cat $(TOOLS_PATH_FILE)):$(abspath $(VENV))/bin:$$PATH"

env: setup
	@echo 'export PATH="'"$$(cat $(TOOLS_PATH_FILE)):$(abspath $(VENV))/bin"':$$PATH"'

lint: setup
	$(with_tools) ruff check .
	$(with_tools) ruff format --check .

typecheck: setup
	$(with_tools) mypy

test: lint typecheck
	$(with_tools) pytest $(PYTEST_ARGS)

sandbox: setup  # PLATFORM=fly|spaces|kubernetes runs one platform; unset runs them all
	$(with_tools) python -m lifecycle.sandbox

bench: setup
	$(with_tools) python -m bench.lifecycle

bench-fill: setup
	$(with_tools) python -m bench.fill $(BENCH_ARGS)

wait: setup
	$(with_tools) python -m lifecycle.wait_ready --stack $(or $(STACK),$(error name the stack: make wait STACK=dev))

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
