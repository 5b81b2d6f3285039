# microblog: `make run` serves the site, `make test` runs the whole suite,
# `make test-fast` the in-process tests only (no browser, no server processes, nothing slow).
# `make screenshots` saves the main pages at phone and desktop widths, in English and Norwegian, into screenshots/.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi

CLIENTS := tests/clients

# Compiled bytecode (and pytest's rewritten test modules) is kept under .venv, out of the tree,
# even where the environment asks Python not to write it: without it every test process and
# every server a test starts compiles the whole code base again (~8 s per pytest process).
unexport PYTHONDONTWRITEBYTECODE
export PYTHONPYCACHEPREFIX := $(CURDIR)/$(VENV)/pycache

.PHONY: install run test test-fast lint typecheck pytest translations translations-extract bench-timeline bench-search bench-api bench-deploy screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.run-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.run-installed

install: $(VENV)/.run-installed translations

run: $(VENV)/.run-installed
	$(FLASK) db upgrade
	$(FLASK) serve

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

pytest: $(VENV)/.dev-installed $(CLIENTS)/node_modules/.installed
	$(BIN)/pytest $(PYTEST_ARGS)

# The JavaScript Mastodon clients of tests/test_js_clients.py, at the versions package-lock.json pins
# (without npm, that test is skipped; CI installs Node and requires it).
$(CLIENTS)/node_modules/.installed: $(CLIENTS)/package.json $(CLIENTS)/package-lock.json
	@if command -v npm >/dev/null; then \
	  (cd $(CLIENTS) && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed) \
	    || echo "npm ci failed (no registry?): the JavaScript client tests will be skipped"; \
	else echo "npm not found: the JavaScript client tests will be skipped"; fi

test: lint typecheck pytest

FAST_MARKERS := not browser and not server and not slow

test-fast: $(VENV)/.dev-installed
	$(BIN)/pytest -m "$(FAST_MARKERS)" -n 2 $(PYTEST_ARGS)

bench-timeline: $(VENV)/.dev-installed
	$(BIN)/python bench/timeline.py $(BENCH_ARGS)

bench-search: $(VENV)/.dev-installed
	$(BIN)/python bench/search.py $(BENCH_ARGS)

bench-api: $(VENV)/.dev-installed
	$(BIN)/python bench/api.py $(BENCH_ARGS)

bench-deploy: $(VENV)/.dev-installed
	$(BIN)/python bench/deploy.py $(BENCH_ARGS)

# A demo site in Chromium (Debian's /usr/bin/chromium): PNGs of the main pages for review, their paths printed.
screenshots: $(VENV)/.dev-installed
	$(BIN)/python -m tests.e2e.screenshots $(SCREENSHOTS_ARGS)

# The .po catalogs are the source (under version control); the app also compiles a newer .po at start.
translations: $(VENV)/.run-installed
	$(BIN)/pybabel compile -d microblog/translations --statistics

# After changing strings: refresh messages.pot and merge it into every catalog, then translate what is new.
translations-extract: $(VENV)/.run-installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -o microblog/translations/messages.pot --no-location \
		--sort-output --project microblog --copyright-holder microblog .
	$(BIN)/pybabel update -i microblog/translations/messages.pot -d microblog/translations --no-wrap \
		--ignore-obsolete

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache $(CLIENTS)/node_modules
