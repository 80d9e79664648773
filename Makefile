# plankg: two commands matter, `make run` and `make test`; the rest are their parts.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install build run serve test lint typecheck clean bench assets browser-deps system-deps audit contract bench-noisy fuzz

# What a fresh Debian machine may lack: python3 with venv and ensurepip (Debian ships them apart, in
# python3-venv), and Node.js with npm for the front-end assets. Each is checked by a command first and
# only what is missing is installed, so a machine where `python3 -m venv` already works is left alone.
system-deps:
	@pkgs=; \
	command -v $(PYTHON) >/dev/null || pkgs="python3"; \
	$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || pkgs="$$pkgs python3-venv"; \
	command -v npm >/dev/null || pkgs="$$pkgs nodejs npm"; \
	if [ -n "$$pkgs" ]; then $$( [ "$$(id -u)" = 0 ] || echo sudo ) sh -c \
	  "apt-get update && apt-get install -y $$pkgs"; fi

$(BIN)/python: | system-deps
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# constraints.txt pins every package (direct and transitive) to the versions CI last passed with.
$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

install: $(STAMP)

build: $(STAMP)
	$(BIN)/plankg build

run: $(STAMP) assets
	$(BIN)/plankg serve --host $(HOST) --port $(PORT) --build-if-stale

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: $(STAMP) lint assets browser-deps
	$(BIN)/python -m pytest

# Front-end assets (YASGUI for the query page, swagger-ui for /docs) from the npm registry, pinned by
# package-lock.json, copied into the directory the server serves: nothing is loaded from a CDN.
VENDOR := server/static/vendor
$(VENDOR)/.installed: package.json package-lock.json | system-deps
	npm ci --ignore-scripts --no-audit --no-fund
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)/yasgui $(VENDOR)/swagger-ui
	cp node_modules/@zazuko/yasgui/build/yasgui.min.js node_modules/@zazuko/yasgui/build/yasgui.min.css $(VENDOR)/yasgui/
	cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css \
	   node_modules/swagger-ui-dist/favicon-32x32.png node_modules/swagger-ui-dist/LICENSE $(VENDOR)/swagger-ui/
	touch $@

assets: $(VENDOR)/.installed

# Debian's Chromium and ChromeDriver for the browser tests (never a browser downloaded by a test tool),
# and a CJK font so that the screenshots show the Chinese text.
browser-deps:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null \
	  && [ -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ]; then :; else \
	  $$( [ "$$(id -u)" = 0 ] || echo sudo ) sh -c \
	    'apt-get update && apt-get install -y chromium chromium-driver fonts-noto-cjk'; fi

# The benchmark's peers (Oxigraph's server, rdflib-endpoint) in a virtualenv of their own; wrk from Debian.
BENCH_VENV := .venv-bench
$(BENCH_VENV)/.installed: bench/requirements.txt | system-deps
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet -r bench/requirements.txt
	touch $@

bench: $(STAMP) $(BENCH_VENV)/.installed
	@command -v wrk >/dev/null || $$( [ "$$(id -u)" = 0 ] || echo sudo ) sh -c \
	  'apt-get update && apt-get install -y wrk'
	$(BIN)/python -m bench.run

# The OpenAPI description against the running server with more examples than `make test` runs (30).
contract: $(STAMP)
	PLANKG_CONTRACT_EXAMPLES=100 $(BIN)/python -m pytest tests/test_contract.py -q -k every_operation

# The longer fuzzing campaign (tests/test_fuzz.py with 50 times the examples: 5000 a property).
fuzz: $(STAMP)
	PLANKG_FUZZ_EXAMPLES=50 $(BIN)/python -m pytest tests/test_fuzz.py -q -p no:cacheprovider

# The noisy-neighbour scenario of the per-client limits (bench/noisy.py), over the built store.
bench-noisy: $(STAMP)
	$(BIN)/python -m bench.noisy --store var/store --dist dist

# Known vulnerabilities in the pinned Python packages (pip-audit over constraints.txt, advisories from
# PyPI's JSON API) and in the front-end packages (npm audit over package-lock.json, the npm registry's
# advisory endpoint). --strict: a package that could not be checked fails the audit, so an advisory
# source out of reach never passes as "no vulnerabilities". Not a prerequisite of `test`: from the
# build machines neither source answers (README, "Dependencies").
AUDIT_VENV := .venv-audit
$(AUDIT_VENV)/.installed: requirements-audit.txt | system-deps
	$(PYTHON) -m venv $(AUDIT_VENV)
	$(AUDIT_VENV)/bin/python -m pip install --quiet -r requirements-audit.txt
	touch $@

audit: $(AUDIT_VENV)/.installed
	$(AUDIT_VENV)/bin/pip-audit --strict --no-deps --disable-pip --progress-spinner off -r constraints.txt
	npm audit --package-lock-only --audit-level=low

clean:
	rm -rf dist var .pytest_cache .mypy_cache .ruff_cache
