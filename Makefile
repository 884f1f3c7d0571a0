# CloudFreedom — two commands: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
# When this make started: `make run` reports how long the install step took (if it ran).
MAKE_STARTED := $(shell date +%s)

export PYTHONPATH := $(CURDIR)

.PHONY: run test lint format install migrate seed web worker beat bench clean-data

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

install: $(STAMP)

# Finds PostgreSQL and Redis (the environment's URLs, else 127.0.0.1, else embedded servers
# in ./.data), writes the choice to .data/runtime.env for every other command, migrates,
# seeds the demo and runs web + worker + beat in the foreground. Ctrl-C stops everything.
run: install
	$(PY) -m cloudfreedom.devserver --make-started $(MAKE_STARTED) --install-stamp $(STAMP)

test: install
	$(BIN)/pytest -q $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The processes `make run` starts (docker-compose.yml runs the same commands).
migrate: install
	$(PY) manage.py migrate_schemas --shared --noinput
	$(PY) manage.py bootstrap
	$(PY) manage.py migrate_schemas --tenant --noinput

seed: install
	$(PY) manage.py seed_demo

web: install
	$(BIN)/uvicorn cloudfreedom.asgi:application --host 0.0.0.0 --port 8000 --loop uvloop --http httptools --lifespan on --timeout-graceful-shutdown 20

worker: install
	$(BIN)/celery -A cloudfreedom worker --loglevel INFO --concurrency 2

beat: install
	$(BIN)/celery -A cloudfreedom beat --loglevel INFO

bench: install
	$(PY) -m bench.tenant_creation
