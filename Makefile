# Ponte — two commands: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask
PORT   ?= 5000
export FLASK_APP := wsgi.py

.PHONY: run test lint setup system-packages translations extract-messages bench bench-smoke clean

$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

# Compiled catalogues are built, not committed.
translations: $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -d app/translations 2>&1 | grep -v "^compiling" || true

setup: $(VENV)/.installed translations

run: setup
	$(FLASK) db upgrade
	$(FLASK) seed demo
	@echo
	@echo "Ponte is starting on http://127.0.0.1:$(PORT) (web server + scheduler). Stop with Ctrl-C."
	@echo
	@trap 'kill $$SCHED 2>/dev/null; wait $$SCHED 2>/dev/null' EXIT INT TERM; \
	$(FLASK) scheduler run & SCHED=$$!; \
	$(FLASK) run --host 127.0.0.1 --port $(PORT) --no-reload

# Debian packages (chromium, fonts, poppler, redis, npm): installed when root, else the line to run.
system-packages:
	@.ci/system-packages

# axe-core for the accessibility tests, from the npm registry, pinned by the lock file.
AXE := tests/e2e/node_modules/axe-core/axe.min.js
$(AXE): tests/e2e/package.json tests/e2e/package-lock.json
	npm ci --prefix tests/e2e --no-audit --no-fund --loglevel=error
	touch $@

# The suite runs in parallel (pytest-xdist), one database per worker: one worker per core
# this process may use, at most 4 (each may drive a browser); WORKERS=1 runs it in one
# process. COV= (empty) skips coverage.
WORKERS ?= $(shell $(PYTHON) -c "import os; print(max(1, min(4, len(os.sched_getaffinity(0)))))")
COV ?= --cov=app --cov-report=term:skip-covered
test: system-packages setup $(AXE) lint
	$(BIN)/python -m pytest tests -p no:cacheprovider -n $(WORKERS) $(COV) $(PYTEST_ARGS)

# ruff (pyflakes, isort, bugbear, pyupgrade, simplify) and mypy on app/, as pyproject.toml says.
lint: $(VENV)/.installed
	$(BIN)/ruff check app tests bench config.py wsgi.py
	$(BIN)/mypy

# For translators: refresh the .pot and merge it into it/ and zh/.
extract-messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F app/translations/babel.cfg -k _l -k lazy_gettext -k lazy_pgettext:1c,2 -o app/translations/messages.pot .
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations --no-fuzzy-matching

# Benchmarks (bench/): figures as ratios to a bare baseline measured in the same run.
bench: setup
	@.ci/system-packages --bench
	$(BIN)/python bench/pages.py
	$(BIN)/python bench/enrol_rush.py
	$(BIN)/python bench/certificates.py
	$(BIN)/python bench/scale.py

# The same benchmarks at a size of seconds, so that CI keeps them working.
bench-smoke: setup
	@.ci/system-packages --bench
	BENCH_SECONDS=1 BENCH_ROSTER=40 $(BIN)/python bench/pages.py
	BENCH_SECONDS=1 BENCH_USERS=40 BENCH_PLACES=10 $(BIN)/python bench/enrol_rush.py
	BENCH_CERTS=20 $(BIN)/python bench/certificates.py
	BENCH_FACTORS=0.1,0.3 BENCH_SECONDS=1 BENCH_ROSTER=20 $(BIN)/python bench/scale.py

clean:
	rm -rf $(VENV) .coverage .mypy_cache .ruff_cache
