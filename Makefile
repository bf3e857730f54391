# Two set-up commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
ROOT   := $(CURDIR)

.PHONY: run test install web types lint bench clean FORCE

install: $(STAMP)

# The venv is rebuilt from scratch when it is missing, when its interpreter does not run, or
# when `kizuna` does not import from this checkout (a venv copied or moved from elsewhere).
$(STAMP): pyproject.toml requirements.lock FORCE
	@if [ -f $(STAMP) ] && $(PY) -c "import kizuna, sys; sys.exit(not kizuna.__file__.startswith('$(ROOT)/src/'))" 2>/dev/null \
		&& [ $(STAMP) -nt pyproject.toml ] && [ $(STAMP) -nt requirements.lock ]; then exit 0; fi; \
	rm -rf $(VENV) && $(PYTHON) -m venv $(VENV) \
	&& $(PY) -m pip install -q --upgrade pip \
	&& $(PY) -m pip install -q -c requirements.lock -e '.[dev]' \
	&& touch $(STAMP)

FORCE:

# The web app's API types (web/src/generated/api.ts) are generated from the node's OpenAPI
# document: `make web` fails when the committed file has drifted, `make types` rewrites it.
NPM_CI := PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error

web: install
	@if [ -f web/package.json ]; then \
		cd web && $(NPM_CI) && KIZUNA_PYTHON=$(ROOT)/$(PY) npm run check:types --silent && npm run build --silent; \
	fi

types: install
	cd web && { [ -d tools/api-types/node_modules/openapi-typescript ] || $(NPM_CI); } \
		&& KIZUNA_PYTHON=$(ROOT)/$(PY) npm run gen:types --silent

run: install web
	$(PY) -m kizuna.demo

lint: install
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

# Python and the web app's browser tests run side by side (the node processes they start
# leave the two cores idle much of the time): pytest in two processes, a file at a time
# each (module fixtures stay in one process), in the order tests/conftest.py gives (the
# longest files first); the browser tests' output follows pytest's. Lint and the web build
# run side by side before them.
test: install
	@$(MAKE) --no-print-directory -j2 web lint
	@web_log=$$(mktemp); web_pid=; \
	if [ -f web/package.json ]; then \
		( cd web && npm run test:unit && npm run test:e2e ) >"$$web_log" 2>&1 & web_pid=$$!; \
	fi; \
	$(VENV)/bin/pytest -n 3 --dist loadfile --no-loadscope-reorder; py=$$?; \
	web=0; if [ -n "$$web_pid" ]; then wait $$web_pid; web=$$?; \
		echo "== web: unit and browser tests (exit $$web)"; cat "$$web_log"; fi; \
	rm -f "$$web_log"; [ $$py -eq 0 ] && [ $$web -eq 0 ]

bench: install
	@for b in bench/*.py; do case $$b in */_*) ;; *) echo "== $$b"; $(PY) $$b || exit 1;; esac; done

clean:
	rm -rf $(VENV) web/node_modules web/tools/api-types/node_modules web/dist demo bench/results
