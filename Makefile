# Symphainy — common tasks. `make help` lists them.
.DEFAULT_GOAL := help
SHELL := /usr/bin/env bash

.PHONY: help run test bench fmt lint build clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-8s %s\n", $$1, $$2}'

run: ## Start both services on 127.0.0.1 (runtime :8000, experience :8001), embedded SQLite + memory
	@scripts/run.sh

test: ## fmt check, clippy, and every test suite on both backends (production ones skipped, loudly, without PostgreSQL/Redis)
	@scripts/test.sh

bench: ## Release build, then the load harness; writes docs/benchmarks.md
	cargo build --release --bins
	target/release/symphainy-bench --out docs/benchmarks.md $(BENCH_ARGS)

build: ## Debug build of every binary
	cargo build --workspace --bins

fmt: ## Format the code
	cargo fmt --all

lint: ## Clippy with warnings as errors
	cargo clippy --workspace --all-targets -- -D warnings

clean: ## Remove build output and the local data directory
	cargo clean
	rm -rf data
