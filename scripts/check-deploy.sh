#!/usr/bin/env bash
# Offline check of deploy/ (issue 8 §2): needs no Docker engine, no cluster and no network
# beyond PyPI for the first install.
#
#   1. deploy/compose.yaml against the Compose specification JSON schema (the compose-spec.json
#      that check-jsonschema vendors: `--builtin-schema vendor.compose-spec`);
#   2. every Kubernetes manifest in deploy/k8s/ against the Kubernetes JSON schemas that
#      kubernetes-validate bundles, in strict mode (unknown fields fail), for the oldest and the
#      newest Kubernetes versions we claim;
#   3. the cross-file checks no schema can make (scripts/check-deploy/consistency.py: replicas
#      share one configuration, the LB and the runtime list name real services, grace periods
#      outlast drain + shutdown, kustomization lists every manifest, PDBs select the pods, ...);
#   4. `nginx -t` on deploy/nginx/nginx.conf when nginx is installed (else it says it skipped):
#      on a copy whose upstream hosts, Compose service names that resolve only inside Compose,
#      are mapped to loopback addresses and the pid file goes to the test directory (both
#      printed); nothing else is changed.
#
# Needs python3 with venv + pip (first run only: the pinned tools of
# scripts/check-deploy/requirements.txt are installed into .venv-deploy/). Exit status is
# non-zero when any file fails.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv-deploy
REQUIREMENTS=scripts/check-deploy/requirements.txt
K8S_VERSIONS=(1.29.0 1.37.0)

stamp=$(cksum <"$REQUIREMENTS")
if [[ ! -x $VENV/bin/check-jsonschema || ! -x $VENV/bin/kubernetes-validate ||
      "$(cat "$VENV/.requirements" 2>/dev/null)" != "$stamp" ]]; then
  echo "==> installing the pinned deploy checkers into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
  echo "$stamp" >"$VENV/.requirements"
fi

status=0

echo "==> deploy/compose.yaml against the Compose specification schema"
"$VENV/bin/check-jsonschema" --builtin-schema vendor.compose-spec deploy/compose.yaml || status=1

manifests=()
for f in deploy/k8s/*.yaml; do
  [[ $(basename "$f") == kustomization.yaml ]] || manifests+=("$f")  # not a Kubernetes kind: step 3
done
for version in "${K8S_VERSIONS[@]}"; do
  echo "==> ${#manifests[@]} manifests in deploy/k8s/ against the Kubernetes $version schemas (strict)"
  "$VENV/bin/kubernetes-validate" --strict --quiet -k "$version" "${manifests[@]}" || status=1
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

have_nginx=no
nginx_args=()
if command -v nginx >/dev/null; then have_nginx=yes; nginx_args=(--nginx-test-config "$work/nginx.conf"); fi

echo "==> cross-file checks (scripts/check-deploy/consistency.py)"
"$VENV/bin/python" scripts/check-deploy/consistency.py "${nginx_args[@]}" || status=1

if [[ $have_nginx == yes ]]; then
  echo "==> nginx -t on deploy/nginx/nginx.conf ($(nginx -v 2>&1 | sed 's/^nginx version: //'))"
  if [[ -s $work/nginx.conf ]]; then
    # Same lines as deploy/nginx/nginx.conf, so an error's line number points there too.
    nginx -t -q -p "$work" -c "$work/nginx.conf" -e stderr || status=1
  else
    echo "no nginx config to test (see the cross-file errors above)" >&2
    status=1
  fi
else
  echo "!!! SKIPPED nginx -t: nginx is not installed (apt-get install nginx-light)."
fi

if [[ $status -eq 0 ]]; then
  echo "deploy check: ok"
else
  echo "deploy check: FAILED" >&2
fi
exit $status
