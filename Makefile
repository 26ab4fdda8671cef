# TalkRooms — the two commands: `make run` and `make test`. `make help` lists the rest.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST := $(BIN)/pytest

PORT ?= 5000
export PORT

RUN_DEPS := redis-server nginx libmagic1
TEST_DEPS := redis-server nginx libmagic1 chromium prometheus docker-compose postgresql

.PHONY: help
help: ## Show the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}'

# -- set-up ---------------------------------------------------------------------------

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	@touch $@

.PHONY: venv
venv: $(STAMP) ## Create the virtualenv from requirements.lock

.PHONY: system-deps
system-deps: ## Install the Debian packages `make run` needs (redis-server, nginx)
	@scripts/install-system-deps.sh $(RUN_DEPS)

.PHONY: test-system-deps
test-system-deps:
	@scripts/install-system-deps.sh $(TEST_DEPS)

.PHONY: lock
lock: ## Re-resolve requirements.lock from pyproject.toml in a clean virtualenv
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install -q --upgrade pip && .lock-venv/bin/pip install -q -e '.[dev]'
	{ head -3 requirements.lock; .lock-venv/bin/pip freeze --exclude-editable | grep -v '^talkrooms'; } > requirements.lock.new
	mv requirements.lock.new requirements.lock && rm -rf .lock-venv

# -- running --------------------------------------------------------------------------

# WORKERS (default: CPU cores, at least 2), LISTEN_HOST (0.0.0.0 for the LAN) and
# WORKER_BASE_PORT reach `talkrooms run` through the environment.
export WORKERS LISTEN_HOST WORKER_BASE_PORT
SUPERVISORCTL := $(BIN)/supervisorctl -c run/supervisord.conf

# CLUSTER=1: the chat on a local 6-node Redis Cluster (3 primaries, 3 replicas) on the
# ports after Redis'; the plain Redis then keeps only RQ's queues.
CLUSTER ?=
RUN_FLAGS := $(if $(filter 1 yes true,$(CLUSTER)),--cluster)

.PHONY: run
run: system-deps venv ## Start Redis, WORKERS chat workers and nginx on http://localhost:$(PORT) (CLUSTER=1: on a Redis Cluster); Ctrl-C stops all
	@# Open files: each proxied WebSocket holds two in nginx; raise the soft limit to the hard one.
	@ulimit -n "$$(ulimit -Hn)" 2>/dev/null || true; \
		exec $(BIN)/python -m talkrooms.cli run --port $(PORT) $(RUN_FLAGS)

.PHONY: stop
stop: ## Stop a running `make run` (from another terminal)
	@if test -S run/supervisor.sock; then $(SUPERVISORCTL) shutdown; else echo "not running"; fi

.PHONY: status
status: ## Show the state of every program of `make run`
	@if test -S run/supervisor.sock; then $(SUPERVISORCTL) status; else echo "not running"; fi

.PHONY: cleanup
cleanup: venv ## Run the room cleanup job once now against make run's Redis
	@REDIS_URL=redis://127.0.0.1:$${REDIS_PORT:-6379}/0 $(BIN)/talkrooms cleanup

.PHONY: migrate
migrate: venv ## Migrate the database (DATABASE_URL, default run/talkrooms.db) to the newest revision
	$(BIN)/talkrooms db upgrade

# -- load tests and benchmarks --------------------------------------------------------

LOCUST_USERS ?= 100
LOCUST_SPAWN_RATE ?= 20
LOCUST_RUN_TIME ?= 60s
RESULTS := loadtests/results

.PHONY: loadtest
loadtest: venv ## Bounded headless Locust run against the running stack; report in loadtests/results/
	@mkdir -p $(RESULTS)
	$(BIN)/locust -f loadtests/locustfile.py --host http://127.0.0.1:$(PORT) --headless \
		--users $(LOCUST_USERS) --spawn-rate $(LOCUST_SPAWN_RATE) --run-time $(LOCUST_RUN_TIME) \
		--stop-timeout 10 --html $(RESULTS)/locust-report.html --csv $(RESULTS)/locust --only-summary
	@echo "report: $(RESULTS)/locust-report.html"

.PHONY: bench
bench: system-deps venv ## The BENCHMARKS.md runs (about 40 minutes; run it alone on the machine)
	$(BIN)/python loadtests/run_benchmarks.py all --out $(RESULTS)

.PHONY: bench-node
bench-node: system-deps venv bench-node-deps ## TalkRooms against Node's socket.io + Redis adapter, same run (about 10 minutes, alone)
	$(BIN)/python loadtests/versus_node.py --rounds 2

# Node's socket.io with its Redis adapter, the yardstick (loadtests/node_baseline/, Node 20).
NODE_BASELINE := loadtests/node_baseline
NODE_BASELINE_STAMP := $(NODE_BASELINE)/node_modules/.installed

$(NODE_BASELINE_STAMP): $(NODE_BASELINE)/package-lock.json $(NODE_BASELINE)/package.json
	cd $(NODE_BASELINE) && npm ci --no-audit --no-fund
	@touch $@

.PHONY: bench-node-deps
bench-node-deps: $(NODE_BASELINE_STAMP) ## socket.io, its Redis adapter and node-redis for the yardstick (npm ci when it changed)

# -- tests ----------------------------------------------------------------------------

.PHONY: test
test: test-system-deps venv lint test-client test-mobile conformance-deps bench-node-deps ## Install what is needed and run every test
	$(PYTEST) -q services/tests

.PHONY: test-unit
test-unit: venv ## Pure unit tests (no servers), in a second
	$(PYTEST) -q services/tests/unit

.PHONY: test-integration
test-integration: test-system-deps venv conformance-deps bench-node-deps $(CLIENT_DIST) ## Protocol tests against real redis-server and workers
	$(PYTEST) -q services/tests/integration

.PHONY: test-stack
test-stack: test-system-deps venv ## The scaled stack: several workers, nginx, make run's plan, compose
	$(PYTEST) -q services/tests/integration/test_stack*.py services/tests/integration/test_cluster*.py \
		services/tests/integration/test_nginx*.py

.PHONY: test-e2e
test-e2e: test-system-deps venv mobile-deps ## Browser tests (Debian's /usr/bin/chromium driven by Playwright through executable_path)
	$(PYTEST) -q services/tests/e2e

.PHONY: test-reliability
test-reliability: test-system-deps venv ## Faults under load: kill -9, Redis down/frozen, rolling restarts
	$(PYTEST) -q -s services/tests/reliability

.PHONY: test-ops
test-ops: test-system-deps venv ## Cleanup job, RQ scheduling, metrics with a real Prometheus
	$(PYTEST) -q services/tests/integration/test_cleanup.py services/tests/integration/test_ops_rq.py \
		services/tests/integration/test_metrics_prometheus.py services/tests/unit/test_metrics_units.py

# -- client core (client/: @talkrooms/client, TypeScript, Node 20) ----------------------

CLIENT := client
CLIENT_STAMP := $(CLIENT)/node_modules/.installed
CLIENT_SOURCES := $(shell find $(CLIENT)/src -name '*.ts' 2>/dev/null) $(CLIENT)/package.json $(CLIENT)/tsconfig.json
CLIENT_DIST := $(CLIENT)/dist/index.js

$(CLIENT_STAMP): $(CLIENT)/package-lock.json $(CLIENT)/package.json
	@node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' 2>/dev/null || \
		{ echo "client/ needs Node 20 or newer (node and npm on PATH)" >&2; exit 1; }
	cd $(CLIENT) && npm ci --no-audit --no-fund
	@touch $@

.PHONY: client-deps
client-deps: $(CLIENT_STAMP) ## The client core's node_modules from client/package-lock.json (npm ci when it changed)

$(CLIENT_DIST): $(CLIENT_STAMP) $(CLIENT_SOURCES)
	cd $(CLIENT) && npm run build

.PHONY: client
client: client-deps ## Build the client core: client/dist (npm, the app) and the web UI's static/vendor/talkrooms-client/
	cd $(CLIENT) && npm run build

.PHONY: test-client
test-client: client-deps ## The client core's checks: tsc --noEmit and its unit tests (its stack suite runs in test-integration)
	cd $(CLIENT) && npm run typecheck
	cd $(CLIENT) && npm test -- --ci

# -- mobile app (mobile/: Expo SDK 56, Node 20) ----------------------------------------

MOBILE := mobile
# In node_modules, so `npm ci` (which empties it first) also removes the stamp.
MOBILE_STAMP := $(MOBILE)/node_modules/.installed

$(MOBILE_STAMP): $(MOBILE)/package-lock.json $(MOBILE)/package.json
	@node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' 2>/dev/null || \
		{ echo "mobile/ needs Node 20 or newer (node and npm on PATH)" >&2; exit 1; }
	cd $(MOBILE) && npm ci --no-audit --no-fund
	@touch $@

# The app imports the client core (file:../client) from its build, client/dist.
.PHONY: mobile-deps
mobile-deps: $(MOBILE_STAMP) $(CLIENT_DIST) ## The app's node_modules from mobile/package-lock.json (npm ci when it changed)

.PHONY: test-mobile
test-mobile: mobile-deps ## The app's checks: tsc, ESLint, Jest (its end-to-end test is in test-e2e)
	cd $(MOBILE) && npm run typecheck
	cd $(MOBILE) && npm run lint
	cd $(MOBILE) && npm test -- --ci

# -- conformance: the official socket.io-client (services/tests/conformance/, Node 20) ------

CONFORMANCE := services/tests/conformance
CONFORMANCE_STAMP := $(CONFORMANCE)/node_modules/.installed

$(CONFORMANCE_STAMP): $(CONFORMANCE)/package-lock.json $(CONFORMANCE)/package.json
	@node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' 2>/dev/null || \
		{ echo "$(CONFORMANCE) needs Node 20 or newer (node and npm on PATH)" >&2; exit 1; }
	cd $(CONFORMANCE) && npm ci --no-audit --no-fund
	@touch $@

.PHONY: conformance-deps
conformance-deps: $(CONFORMANCE_STAMP) ## The pinned socket.io-client for the interop test (npm ci when it changed)

.PHONY: lint
lint: venv ## ruff (lint + format check), mypy, the import contracts, fresh protocol copies
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	cd services && ../$(BIN)/lint-imports ../pyproject.toml
	$(BIN)/python -m talkrooms.protocol.generate --check

.PHONY: protocol
protocol: venv client-deps ## Generate the client core's facts and docs/protocol.md's tables from facts.json, rebuild the core
	$(BIN)/python -m talkrooms.protocol.generate
	cd $(CLIENT) && npm run build

.PHONY: fmt
fmt: venv ## Format the Python code
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

.PHONY: clean
clean: ## Remove the virtualenv, caches and run data
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache run artifacts
