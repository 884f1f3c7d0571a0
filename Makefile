# CloudFreedom — two commands: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed

export PYTHONPATH := $(CURDIR)

.PHONY: run test lint format install migrate seed web worker beat bench clean-data

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

install: $(STAMP)

# Finds PostgreSQL (DATABASE_URL, else 127.0.0.1:5432, else an embedded one in ./.data),
# checks Redis, migrates, seeds the demo and runs web + worker + beat in the foreground.
run: install
	$(PY) -m cloudfreedom.devserver

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
	$(BIN)/uvicorn cloudfreedom.asgi:application --host 0.0.0.0 --port 8000 --loop uvloop --http httptools --lifespan off

worker: install
	$(BIN)/celery -A cloudfreedom worker --loglevel INFO --concurrency 2

beat: install
	$(BIN)/celery -A cloudfreedom beat --loglevel INFO

bench: install
	$(PY) -m bench.tenant_creation
