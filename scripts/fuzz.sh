#!/usr/bin/env bash
# Schema-driven fuzzing of both services' /openapi.json with schemathesis (issue 7 §4).
#
# Starts the debug binaries (embedded backend, free ports, a temp data dir), registers a user for
# the experience plane's authenticated operations and mints a service token for the runtime's
# reads, then runs schemathesis with every check against each document. Zero failures, or the
# run fails. What is not fuzzed, and why: docs/adr/0012. The allow-list: scripts/fuzz/schemathesis.toml.
#
# Needs python3 with venv + pip and the PyPI registry (first run only: the pinned schemathesis is
# installed into .venv-fuzz/). Build first: `cargo build --workspace --bins --examples`.
# FUZZ_EXAMPLES (default 25) bounds the examples per operation and phase.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
VENV=.venv-fuzz
EXAMPLES=${FUZZ_EXAMPLES:-25}
TARGET=${CARGO_TARGET_DIR:-target}/debug

if [[ ! -x $VENV/bin/st ]] || [[ "$($VENV/bin/st --version 2>/dev/null)" != *"$SCHEMATHESIS_VERSION"* ]]; then
  echo "==> installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

for bin in runtime-service experience-service examples/service_token; do
  [[ -x $TARGET/$bin ]] || { echo "missing $TARGET/$bin: run cargo build --workspace --bins --examples" >&2; exit 1; }
done

work=$(mktemp -d)
# `start` runs inside `$(…)`, a subshell: it records its service's pid in a file, not a variable,
# so the cleanup sees every service it started.
cleanup() {
  if [[ -f $work/pids ]]; then
    while read -r pid; do kill "$pid" 2>/dev/null || true; done <"$work/pids"
  fi
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

secret() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
export APP__SECURITY__SERVICE_SECRET; APP__SECURITY__SERVICE_SECRET=$(secret)

# Starts a service in the background; prints its address once its `listening` line appears.
start() {
  local name=$1; shift
  env "$@" APP__SERVER__PORT=0 APP__LOG__FORMAT=json APP__LOG__LEVEL=warn,runtime_service=info,experience_service=info \
    "$TARGET/$name" >"$work/$name.log" 2>&1 &
  echo $! >>"$work/pids"
  for _ in $(seq 1 600); do
    local addr
    addr=$(grep -m1 '"listening"' "$work/$name.log" 2>/dev/null | sed -E 's/.*"addr":"([^"]+)".*/\1/' || true)
    if [[ -n $addr ]]; then echo "$addr"; return; fi
    sleep 0.1
  done
  echo "$name did not start:" >&2; cat "$work/$name.log" >&2; exit 1
}

runtime=$(start runtime-service APP__DATA_DIR="$work/runtime")
experience=$(start experience-service APP__DATA_DIR="$work/experience" APP__RUNTIME__URL="http://$runtime" \
  APP__JWT__SECRET="$(secret)" APP__SECURITY__REFRESH_SECRET="$(secret)" \
  APP__AUTH__ARGON2_MEMORY_KIB=1024 APP__AUTH__ARGON2_ITERATIONS=1 \
  APP__AUTH__IP_MAX_ATTEMPTS=1000000 APP__AUTH__LOGIN_MAX_FAILURES=1000000)
echo "==> runtime on $runtime, experience on $experience"

email="fuzz-$(secret | head -c 12)@example.com"
token=$(curl -fsS -X POST "http://$experience/api/auth/register" -H 'content-type: application/json' \
  -d "{\"email\":\"$email\",\"password\":\"fuzzing-password-$(secret | head -c 8)\"}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
service_token=$("$TARGET/examples/service_token")

common=(--checks all --max-examples "$EXAMPLES" --phases examples,coverage,fuzzing
  --suppress-health-check all --warnings off --request-timeout 10 --seed 7)
status=0

echo "==> fuzzing experience-service"
"$VENV/bin/st" --config-file scripts/fuzz/schemathesis.toml run "http://$experience/openapi.json" "${common[@]}" \
  -H "Authorization: Bearer $token" \
  --exclude-path /api/auth/logout --exclude-path-regex '^/api/auth/sessions/' \
  --exclude-path /api/events/stream || status=1

echo "==> fuzzing runtime-service (reads with a service token)"
"$VENV/bin/st" --config-file scripts/fuzz/schemathesis.toml run "http://$runtime/openapi.json" "${common[@]}" \
  -H "Authorization: Bearer $service_token" \
  --include-method GET --exclude-path-regex '/stream$' || status=1

exit $status
