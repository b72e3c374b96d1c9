#!/usr/bin/env bash
# `make run`: both services with no configuration (SQLite files and generated secrets in ./data,
# in-memory state store), readable logs, Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet -p runtime-service -p experience-service
mkdir -p data
export APP__LOG__FORMAT="${APP__LOG__FORMAT:-pretty}"
target/debug/runtime-service &
runtime=$!
target/debug/experience-service &
experience=$!
stop() { kill -TERM "$runtime" "$experience" 2>/dev/null || true; wait || true; }
trap 'stop; exit 0' INT TERM
trap stop EXIT
echo "runtime-service    http://127.0.0.1:8000  (docs: /docs)"
echo "experience-service http://127.0.0.1:8001  (docs: /docs)   Ctrl-C stops both"
wait -n $runtime $experience
