# Chorus: the entry points for people and CI. What a fresh Debian machine lacks is
# installed here (uv, Java, Maven) or by the stack manager (PostgreSQL, Redis, Kafka jars).

SHELL := /bin/bash
.DEFAULT_GOAL := help

ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
PY := $(ROOT)/.venv/bin/python
# `uv` on PATH, else where `pip install --user` puts it (deps installs it there).
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PYTEST := $(PY) -m pytest -p no:cacheprovider
PYTEST_ARGS ?=
BENCH_ARGS ?=
UP_ARGS ?=

.PHONY: help deps up up-infra down wipe status test test-unit lint bench

help:
	@echo "make deps       install uv, Java, Maven if missing; sync the venv"
	@echo "make up         start Kafka, Postgres, Redis and the five services (make up-infra: engines only)"
	@echo "make down       stop what 'up' started (data kept);  make wipe: stop and delete data"
	@echo "make status     what runs, who started it, where"
	@echo "make test       the whole suite (starts the engines it needs);  make test-unit: no engines"
	@echo "make lint       ruff + mypy;  make bench: benchmarks"

deps:
	@if [ ! -x "$(UV)" ]; then \
	  echo "deps: installing uv with pip"; \
	  python3 -m pip install --user --quiet uv 2>/dev/null \
	    || python3 -m pip install --user --quiet --break-system-packages uv; \
	fi
	@if ! command -v java >/dev/null 2>&1 || ! command -v mvn >/dev/null 2>&1; then \
	  echo "deps: installing Java and Maven (Kafka runs from Apache's jars)"; \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive \
	    $(SUDO) apt-get install -y -q --no-install-recommends default-jre-headless maven; \
	fi
	@cd $(ROOT) && if [ -f uv.lock ]; then "$(UV)" sync --frozen --quiet; else "$(UV)" sync --quiet; fi

up: deps
	$(PY) -m chorus_devstack up $(UP_ARGS)

up-infra: deps
	$(PY) -m chorus_devstack up --infra-only

down:
	$(PY) -m chorus_devstack down

wipe:
	$(PY) -m chorus_devstack down --wipe

status:
	@$(PY) -m chorus_devstack status

# The plugin finds or starts the engines integration tests need, and stops at the
# end only what this run started.
test: deps
	cd $(ROOT) && $(PYTEST) $(PYTEST_ARGS)

test-unit: deps
	cd $(ROOT) && $(PYTEST) -m unit $(PYTEST_ARGS)

lint: deps
	cd $(ROOT) && .venv/bin/ruff check . && .venv/bin/mypy libs/*/src services/*/src

bench: deps
	@cd $(ROOT) && if [ -f bench/run.py ]; then $(PY) bench/run.py $(BENCH_ARGS); \
	  else echo "bench: no bench/run.py yet" >&2; exit 1; fi
