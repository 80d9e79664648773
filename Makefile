# plankg: two commands matter, `make run` and `make test`; the rest are their parts.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
VENDOR := server/static/vendor
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install build run serve test lint typecheck clean bench bench-corpus assets browser-deps system-deps virtuoso-deps ocr-deps audit contract bench-noisy fuzz soak

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
# The vendored front-end assets come first: pyproject names server/static/vendor as a package.
$(STAMP): pyproject.toml constraints.txt | $(BIN)/python $(VENDOR)/.installed
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

test: $(STAMP) lint assets browser-deps virtuoso-deps ocr-deps
	$(BIN)/python -m pytest

# Front-end assets (YASGUI for the query page, swagger-ui for /docs) from the npm registry, pinned by
# package-lock.json, copied into the directory the server serves: nothing is loaded from a CDN.
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

# OpenLink Virtuoso 7 from Debian, for the remote-engine tests (tests/test_virtuoso.py start their own
# instance on loopback ports; installing the package starts no daemon we rely on) and the benchmark.
virtuoso-deps:
	@if command -v virtuoso-t >/dev/null && command -v isql-vt >/dev/null \
	  && [ -f /etc/virtuoso-opensource-7/virtuoso.ini ]; then :; else \
	  $$( [ "$$(id -u)" = 0 ] || echo sudo ) sh -c \
	    'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y virtuoso-opensource'; fi

# Reading plans as published (mapping/ingest): tesseract with its simplified-Chinese model for scanned
# pages, poppler's pdftoppm to rasterise them; img2pdf and qpdf make the tests' scanned and encrypted PDFs.
ocr-deps:
	@if command -v tesseract >/dev/null && command -v pdftoppm >/dev/null && command -v img2pdf >/dev/null \
	  && command -v qpdf >/dev/null && [ -f /usr/share/tesseract-ocr/5/tessdata/chi_sim.traineddata ]; then :; else \
	  $$( [ "$$(id -u)" = 0 ] || echo sudo ) sh -c \
	    'apt-get update && apt-get install -y tesseract-ocr tesseract-ocr-chi-sim poppler-utils img2pdf qpdf'; fi

# The benchmark's peers (Oxigraph's server, rdflib-endpoint) in a virtualenv of their own; wrk from Debian.
BENCH_VENV := .venv-bench
$(BENCH_VENV)/.installed: bench/requirements.txt | system-deps
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet -r bench/requirements.txt
	touch $@

bench: $(STAMP) $(BENCH_VENV)/.installed virtuoso-deps browser-deps ocr-deps
	@command -v wrk >/dev/null || $$( [ "$$(id -u)" = 0 ] || echo sudo ) sh -c \
	  'apt-get update && apt-get install -y wrk'
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.ingest
	@if [ "$(SOAK)" = 1 ]; then $(MAKE) soak; fi  # `make bench SOAK=1`: the ten-minute soak as well

# Cost growth of `plankg build` with the corpus (1, 10, 100, 1000 generated plans; bench/corpus.py).
CORPUS_SIZES ?= 1 10 100 1000
bench-corpus: $(STAMP)
	nice $(BIN)/python -m bench.corpus --sizes $(CORPUS_SIZES)

# The OpenAPI description against the running server with more examples than `make test` runs (30).
contract: $(STAMP)
	PLANKG_CONTRACT_EXAMPLES=100 $(BIN)/python -m pytest tests/test_contract.py -q -k every_operation

# The longer fuzzing campaign (tests/test_fuzz.py with 50 times the examples: 5000 a property).
fuzz: $(STAMP)
	PLANKG_FUZZ_EXAMPLES=50 $(BIN)/python -m pytest tests/test_fuzz.py -q -p no:cacheprovider

# The noisy-neighbour scenario of the per-client limits (bench/noisy.py), over the built store.
bench-noisy: $(STAMP)
	$(BIN)/python -m bench.noisy --store var/store --dist dist

# Ten minutes at 64 connections over the built store (bench/soak.py): errors, the memory of every
# server process and query worker, latency percentiles per minute.
soak: $(STAMP)
	$(BIN)/python -m bench.soak --store var/store --dist dist --replicate 27

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

# Mutation testing (bench/mutation.py): mutmut, pinned in requirements-mutation.txt, on four modules
# against their own tests, one module at a time under nice; equivalent mutants judged by hand in
# bench/mutation-equivalent.txt. Not part of `make test`. MUTATION_MODULES=safety parser picks some.
.PHONY: mutation
MUTATION_STAMP := $(VENV)/.mutation-installed
$(MUTATION_STAMP): requirements-mutation.txt $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -r requirements-mutation.txt
	touch $@

mutation: $(MUTATION_STAMP)
	$(BIN)/python -m bench.mutation $(MUTATION_MODULES)
