#!/usr/bin/env bash
# `make test`: format check, clippy, then every test suite on both backends.
#
# The production-backend suites (modules named `production`) need PostgreSQL and Redis. Where
# they are not reachable they are skipped and this script says so; with CI=true nothing may be
# skipped and a missing service fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_HOST=${TEST_PG_HOST:-127.0.0.1}
PG_PORT=${TEST_PG_PORT:-5432}
REDIS_HOST=${TEST_REDIS_HOST:-127.0.0.1}
REDIS_PORT=${TEST_REDIS_PORT:-6379}
export TEST_DATABASE_URL=${TEST_DATABASE_URL:-postgres://postgres@$PG_HOST:$PG_PORT/symphainy_test}
export TEST_REDIS_URL=${TEST_REDIS_URL:-redis://$REDIS_HOST:$REDIS_PORT}

reachable() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy --all-targets -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "==> cargo build --bins --examples"
cargo build --workspace --bins --examples --quiet

production=yes
why=()
reachable "$PG_HOST" "$PG_PORT" || { production=no; why+=("PostgreSQL not reachable at $PG_HOST:$PG_PORT"); }
reachable "$REDIS_HOST" "$REDIS_PORT" || { production=no; why+=("Redis not reachable at $REDIS_HOST:$REDIS_PORT"); }

if [[ $production == yes ]]; then
  # A database of our own, recreated each run, so leftover test schemas never pile up.
  if command -v psql >/dev/null; then
    psql -q -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 \
      -c "DROP DATABASE IF EXISTS symphainy_test WITH (FORCE)" -c "CREATE DATABASE symphainy_test" >/dev/null
  fi
  echo "==> cargo test (embedded AND production backends)"
  cargo test --workspace --quiet
else
  if [[ "${CI:-}" == "true" ]]; then
    printf 'CI=true and the production backends are missing: %s\n' "${why[@]}" >&2
    exit 1
  fi
  echo "!!! SKIPPING the production-backend suites (PostgreSQL + Redis):"
  printf '!!!   %s\n' "${why[@]}"
  echo "!!! Only the embedded (SQLite + memory) suites run. Start PostgreSQL and Redis to run everything."
  echo "==> cargo test (embedded backend only)"
  cargo test --workspace --quiet -- --skip production
  echo "!!! Reminder: production-backend suites were SKIPPED (${why[*]})."
fi

# Schema-driven fuzzing of both /openapi.json documents (scripts/fuzz.sh; needs python3 + pip).
if command -v python3 >/dev/null && python3 -c 'import venv, ensurepip' 2>/dev/null; then
  echo "==> schemathesis against both services (scripts/fuzz.sh)"
  scripts/fuzz.sh
elif [[ "${CI:-}" == "true" ]]; then
  echo "CI=true and python3 with venv/pip is missing: the schema fuzzer cannot run" >&2
  exit 1
else
  echo "!!! SKIPPING the schema fuzzer: python3 with venv and pip is not installed."
fi

# Offline check of deploy/: Compose and Kubernetes schemas, cross-file consistency, nginx -t when
# nginx is installed (scripts/check-deploy.sh; needs python3 + pip).
if command -v python3 >/dev/null && python3 -c 'import venv, ensurepip' 2>/dev/null; then
  echo "==> deploy/ files (scripts/check-deploy.sh)"
  scripts/check-deploy.sh
elif [[ "${CI:-}" == "true" ]]; then
  echo "CI=true and python3 with venv/pip is missing: the deploy check cannot run" >&2
  exit 1
else
  echo "!!! SKIPPING the deploy/ check: python3 with venv and pip is not installed."
fi
