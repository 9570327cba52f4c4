# The commands people type. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help

$(STAMP): setup.cfg pyproject.toml sdk/python/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	$(BIN)/python -m pip install --quiet -e ./sdk/python
	touch $@

.PHONY: help
help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

.PHONY: install
install: $(STAMP) ## Create .venv and install Laurel with its test and dev tools

.PHONY: run
run: $(STAMP) ## Start the embedded server (in memory) with the demo project on PORT (8000)
	$(BIN)/flask --app wsgi demo --port $(PORT)

.PHONY: test
test: $(STAMP) ## Run the whole test suite (uses Redis at 127.0.0.1:6379/12 when it answers)
	$(BIN)/pytest $(PYTEST_ARGS)

# 2028-12-31T23:59Z is the last minute of a month, of an ISO week (a Sunday) and of a year.
SHIFTED_CLOCK ?= 2028-12-31T23:59:00Z

.PHONY: test-shifted
test-shifted: $(STAMP) ## The whole suite with Laurel's clock started at SHIFTED_CLOCK (any date must pass)
	LAUREL_TEST_CLOCK=$(SHIFTED_CLOCK) $(BIN)/pytest --no-cov -p no:cacheprovider $(PYTEST_ARGS)

.PHONY: serve
serve: $(STAMP) ## Production: create indexes, then gunicorn; needs MONGO_URI, REDIS_URL, JWT_SECRET
	@[ -n "$${MONGO_URI// /}" ] && [ -n "$${REDIS_URL// /}" ] || { echo "make serve runs several" \
	  "workers, which must share MONGO_URI and REDIS_URL (and JWT_SECRET); for the in-memory" \
	  "demo use make run" >&2; exit 1; }
	$(BIN)/flask --app wsgi db init
	PORT=$(PORT) LOG_FORMAT=$${LOG_FORMAT:-json} $(if $(WORKERS),WEB_CONCURRENCY=$(WORKERS)) \
	  $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

.PHONY: worker
worker: $(STAMP) ## Production: an RQ worker with its scheduler (webhook deliveries and their retries)
	@[ -n "$${REDIS_URL// /}" ] && [ -n "$${MONGO_URI// /}" ] || { echo "make worker takes jobs" \
	  "from REDIS_URL and works on MONGO_URI; make run runs them in its own process" >&2; exit 1; }
	LOG_FORMAT=$${LOG_FORMAT:-json} $(BIN)/python -m jobs.worker

.PHONY: scheduler
scheduler: $(STAMP) ## Production: run the scheduled jobs (sweeps, checks, reports, exports); one per deployment
	@[ -n "$${MONGO_URI// /}" ] || { echo "make scheduler works on the shared MONGO_URI;" \
	  "make run schedules the same jobs in memory" >&2; exit 1; }
	LOG_FORMAT=$${LOG_FORMAT:-json} $(BIN)/flask --app wsgi scheduler

.PHONY: up
up: ## Containers: MongoDB (replica set), Redis, web, worker, scheduler; needs JWT_SECRET
	@[ -n "$${JWT_SECRET// /}" ] || { echo "make up needs JWT_SECRET (32+ random bytes:" \
	  "python -c 'import secrets; print(secrets.token_hex(32))')" >&2; exit 1; }
	docker compose up --build --detach --wait

.PHONY: down
down: ## Stop the containers (volumes are kept; docker compose down -v drops them)
	docker compose down

.PHONY: db-init
db-init: $(STAMP) ## Create MongoDB indexes (production)
	$(BIN)/flask --app wsgi db init

.PHONY: bench
bench: $(STAMP) ## Benchmarks: engine, catalog cache, report runs, insights, interpreter settings, HTTP (REPORTS_BENCH="--stored 100000", INSIGHTS_BENCH="--events 100000 --users 5000 --compare 20000", HTTP_BENCH="--users 20000" to scale down)
	$(BIN)/python -m tests.bench.engine
	$(BIN)/python -m tests.bench.reports $(REPORTS_BENCH)
	$(BIN)/python -m tests.bench.insights $(INSIGHTS_BENCH)
	$(BIN)/python -m tests.bench.interpreter
	$(BIN)/python -m tests.bench.http $(HTTP_BENCH)

.PHONY: lint
lint: $(STAMP) ## ruff (lint + format check), mypy strict on core, rules, reports, web, jobs and the SDK, the layer contracts (lint-imports), hadolint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/hadolint Dockerfile

.PHONY: clean
clean: ## Remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache .coverage htmlcov *.egg-info
