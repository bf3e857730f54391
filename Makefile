# Two set-up commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test install web lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c requirements.lock -e '.[dev]'
	touch $(STAMP)

web: install
	@if [ -f web/package.json ]; then \
		cd web && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error && npm run build --silent; \
	fi

run: install web
	$(PY) -m kizuna.demo

lint: install
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy

test: install web lint
	$(VENV)/bin/pytest
	@if [ -f web/package.json ]; then cd web && npm test; fi

bench: install
	@for b in bench/*.py; do case $$b in */_*) ;; *) echo "== $$b"; $(PY) $$b || exit 1;; esac; done

clean:
	rm -rf $(VENV) web/node_modules web/dist demo bench/results
