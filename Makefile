# Two commands: `make run` serves the API on a local store, `make test` runs the whole suite.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTHON ?= python3

.PHONY: run test lint bench clean registry-binary

# The scanner tests run a real OCI registry: Debian's docker-registry (CNCF distribution).
REGISTRY_BIN := /usr/bin/docker-registry
REGISTRY_INSTALL := apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends docker-registry

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[dev,local]'
	touch $(STAMP)

run: $(STAMP)
	@if [ -n "$$MONGODB_URI" ]; then exec $(VENV)/bin/image-service serve; \
	else exec $(VENV)/bin/image-service serve --local-store .data; fi

registry-binary:
	@if [ ! -x $(REGISTRY_BIN) ]; then \
		if [ "$$(id -u)" = 0 ]; then $(REGISTRY_INSTALL); \
		elif command -v sudo >/dev/null 2>&1; then sudo -n sh -c '$(REGISTRY_INSTALL)'; fi; \
	fi; \
	if [ ! -x $(REGISTRY_BIN) ]; then \
		echo "docker-registry is required by the scanner tests; install the Debian package docker-registry" >&2; \
		exit 1; \
	fi

test: $(STAMP) registry-binary
	$(PY) -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) -m bench.run_all
	$(PY) -m bench.scan --rounds 5 --update-results

clean:
	rm -rf $(VENV) .data .pytest_cache
