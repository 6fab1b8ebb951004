# Baton: `make run` sets up everything and starts the system; `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := help

RASA_VENV := .venv/rasa
GATEWAY_VENV := .venv/gateway
RASA_PY := $(RASA_VENV)/bin/python
GATEWAY_PY := $(GATEWAY_VENV)/bin/python
export RASA_TELEMETRY_ENABLED := false
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help install train run run-cluster test test-deps widget evaluate evaluate-running bench clean

help:
	@echo "make run       set up everything and start Baton (widget demo, agent console)"
	@echo "make run-cluster  the same with PostgreSQL and two gateways (BATON_PORT, +1)"
	@echo "make test      set up everything and run every test"
	@echo "make evaluate  measure the assistant on the development data in ../shared/data"
	@echo "make evaluate-running  the same tweets through the whole running system"
	@echo "make bench     run the benchmarks under bench/"
	@echo "make widget    rebuild handoff/static/widget.js after changing the widget's sources"

$(RASA_VENV)/.installed: requirements/rasa.txt requirements/rasa-nodeps.txt
	@test -x $(RASA_PY) || $$(scripts/find_python.sh 3.10) -m venv $(RASA_VENV)
	$(RASA_PY) -m pip install -q --upgrade pip
	$(RASA_PY) -m pip install -q -r requirements/rasa.txt
	$(RASA_PY) -m pip install -q --no-deps -r requirements/rasa-nodeps.txt
	@touch $@

$(GATEWAY_VENV)/.installed: requirements/gateway.txt requirements/gateway-test.txt
	@test -x $(GATEWAY_PY) || $$(scripts/find_python.sh 3.11) -m venv $(GATEWAY_VENV)
	$(GATEWAY_PY) -m pip install -q --upgrade pip
	$(GATEWAY_PY) -m pip install -q -r requirements/gateway-test.txt
	@touch $@

# Redis (a Debian package) holds the trackers that Rasa's processes share.
install: $(RASA_VENV)/.installed $(GATEWAY_VENV)/.installed
	scripts/install_redis.sh

# Trains only when no model was trained from the same inputs (cached by their hash).
train: install
	PYTHONPATH=. $(RASA_PY) scripts/train.py

# What the tests need besides Python: Chromium and axe-core (npm) for the browser tests,
# esbuild (npm) to check the widget's bundle against its sources, PostgreSQL's server,
# nginx (the reverse-proxy sample's test), Redis' server.
test-deps:
	scripts/install_chromium.sh
	scripts/install_axe.sh
	scripts/install_esbuild.sh
	scripts/install_postgres.sh
	scripts/install_nginx.sh
	scripts/install_redis.sh

# The widget's bundle is committed (running Baton needs no Node); this rebuilds it.
widget:
	scripts/build_widget.sh

run: train
	$(GATEWAY_PY) scripts/run_all.py

# PostgreSQL (Debian's package, data under var/postgres) and two gateways sharing Redis.
run-cluster: train
	scripts/install_postgres.sh
	$(GATEWAY_PY) scripts/run_all.py --cluster

test: train test-deps
	scripts/run_tests.sh

evaluate: train
	PYTHONPATH=. $(RASA_PY) scripts/evaluate.py

# The same tweets through the running system (its own Baton on free loopback ports).
evaluate-running: train
	$(GATEWAY_PY) scripts/evaluate_running.py

# Each benchmark starts its own processes on loopback, bounded in count and time.
bench: train
	PYTHONPATH=. $(RASA_PY) bench/train_time.py
	$(GATEWAY_PY) bench/gateway_overhead.py
	$(GATEWAY_PY) bench/handoff_notify.py
	$(GATEWAY_PY) bench/relay.py
	$(GATEWAY_PY) bench/idle_connections.py
	$(GATEWAY_PY) bench/flood.py
	$(GATEWAY_PY) bench/rasa_capacity.py

clean:
	rm -rf .venv models var results artifacts
