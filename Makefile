# Everything a fresh machine needs is done by these targets.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 5000
export FLASK_APP := wsgi.py

.PHONY: run test install install-dev lint bench serve vendor clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

run: export APP_ENV ?= development
run: install
	$(PY) -m flask db upgrade
	$(PY) -m flask demo --if-empty
	$(PY) -m flask run --host 127.0.0.1 --port $(PORT)

serve: install
	$(PY) -m flask db upgrade
	$(VENV)/bin/gunicorn --bind $${BIND:-127.0.0.1:$(PORT)} wsgi:app  # settings: gunicorn.conf.py

test: install-dev
	bash scripts/install-test-deps.sh  # Debian's chromium (and pg_dump for PostgreSQL) if missing
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy delphi scoring scale_bands

bench: install-dev
	$(PY) -m bench

vendor:
	bash static/vendor/update.sh

clean:
	rm -rf $(VENV) instance/*.sqlite3 .pytest_cache
