# Every chore goes through uv; `make run` and `make test` install what they need by themselves.
SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")
PY := $(UV) run --frozen
export UV_LINK_MODE := copy

.PHONY: help deps run test test-fast lint fmt bench crds kube-up kube-down clean

help:
	@echo "make run        reconcile examples/ into SQLite (.switchboard/catalog.db) and print the catalog"
	@echo "make test       every test tier: unit, component (SQLite + PostgreSQL), cluster"
	@echo "make lint       ruff, mypy --strict, import-linter"
	@echo "make bench      benchmarks: a table on stdout, JSON in .bench/"
	@echo "make kube-up    a local kube-apiserver + etcd on loopback (.switchboard/kubeconfig)"

$(UV):
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet --user uv

deps: $(UV)
	@$(UV) sync --frozen --quiet

run: deps
	WEATHER_APPID=$${WEATHER_APPID:-demo-appid} $(PY) switchboard reconcile examples/
	$(PY) switchboard catalog list

test: deps
	@bash scripts/ensure-postgres.sh >/dev/null
	$(PY) pytest

test-fast: deps
	$(PY) pytest -m "not cluster and not postgres"

lint: deps
	$(PY) ruff check operator tests benchmarks scripts
	$(PY) ruff format --check operator tests benchmarks scripts
	$(PY) mypy
	$(PY) lint-imports
	@unformatted="$$(gofmt -l tests)"; if [ -n "$$unformatted" ]; then echo "gofmt: $$unformatted"; exit 1; fi

fmt: deps
	$(PY) ruff format operator tests benchmarks scripts
	$(PY) ruff check --fix operator tests benchmarks scripts

crds: deps
	$(PY) switchboard crds --output-dir crds

bench: deps
	$(PY) python -m benchmarks

kube-up: deps
	$(PY) python tests/harness/kube.py up --kubeconfig .switchboard/kubeconfig --crds crds/
	kubectl --kubeconfig .switchboard/kubeconfig apply --server-side -f charts/switchboard/crds/kopf-peering.yaml

kube-down: deps
	$(PY) python tests/harness/kube.py down

clean:
	rm -rf .switchboard .bench .pytest_cache .mypy_cache .ruff_cache
