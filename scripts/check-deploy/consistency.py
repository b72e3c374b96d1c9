"""Cross-file checks of deploy/ that no schema can make (run by scripts/check-deploy.sh).

The schemas say each file is well-formed; this says the files describe one system:
- Compose: the replicas of a service are identical (one database, one Redis, the same key
  prefix), every name the nginx upstream or APP__RUNTIME__URL uses is a Compose service, every
  replica is reachable through them, depends_on names exist, and stop_grace_period outlasts the
  drain plus the shutdown timeout.
- Kubernetes: kustomization.yaml lists every manifest (but never the Secret template), each
  Deployment has 2+ replicas, a PodDisruptionBudget that selects its pods, readiness on
  /health/ready, and a grace period longer than drain + shutdown timeout; the configmaps carry the
  drain and lease settings; the runtime URL names the runtime Service.

With --nginx-test-config OUT it also writes a copy of the nginx config whose upstream hosts (the
Compose service names, which only resolve inside Compose) are mapped to distinct loopback
addresses and whose pid file (which `nginx -t` creates) is put in the test directory; each change
is printed. Nothing else in the config is changed.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SHUTDOWN_TIMEOUT_SECS = 30  # server.shutdown_timeout_secs default (crates/platform-sdk/src/settings.rs)
REPLICA = re.compile(r"^(?P<base>.+)-(?P<n>\d+)$")
UPSTREAM_SERVER = re.compile(r"^(?P<indent>\s*server\s+)(?P<host>[A-Za-z0-9_.-]+):(?P<port>\d+)(?P<rest>.*)$")

errors: list[str] = []


def fail(msg: str) -> None:
    errors.append(msg)


def seconds(value: object) -> float:
    """A Compose duration ("45s", "1m30s", "500ms") in seconds."""
    text = str(value)
    total, pos = 0.0, 0
    for m in re.finditer(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)", text):
        if m.start() != pos:
            break
        total += float(m.group(1)) * {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6}[m.group(2)]
        pos = m.end()
    if pos != len(text) or not text:
        raise ValueError(f"not a duration: {text!r}")
    return total


def env_of(service: dict) -> dict:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return env


def published_8001(port: object) -> bool:
    """Whether a Compose port entry (short "[ip:]8001:8001" or long syntax) publishes 8001."""
    if isinstance(port, dict):
        return str(port.get("target")) == "8001" and str(port.get("published")) == "8001"
    return str(port).split("/")[0].split(":")[-2:] == ["8001", "8001"]


def upstream_hosts(conf: str) -> list[tuple[str, int]]:
    hosts, depth, in_upstream = [], 0, None
    for line in conf.splitlines():
        code = line.split("#", 1)[0]
        if re.match(r"^\s*upstream\s+\S+\s*\{", code):
            in_upstream = depth
        m = UPSTREAM_SERVER.match(code)
        if in_upstream is not None and m:
            hosts.append((m["host"], int(m["port"])))
        depth += code.count("{") - code.count("}")
        if in_upstream is not None and depth <= in_upstream:
            in_upstream = None
    return hosts


def check_compose(nginx_out: Path | None) -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services: dict = compose.get("services") or {}

    for name, svc in services.items():
        for dep in svc.get("depends_on") or {}:
            if dep not in services:
                fail(f"compose: {name} depends_on unknown service {dep!r}")

    groups: dict[str, list[str]] = {}
    for name in services:
        m = REPLICA.match(name)
        if m:
            groups.setdefault(m["base"], []).append(name)
    for base in ("runtime", "experience"):
        replicas = sorted(groups.get(base, []))
        if len(replicas) < 2:
            fail(f"compose: expected 2+ replicas named {base}-N, found {replicas}")
            continue
        first = services[replicas[0]]
        for other in replicas[1:]:
            if services[other] != first:
                fail(f"compose: {other} differs from {replicas[0]}: replicas must share one configuration")
        env = env_of(first)
        for key in ("APP__DATABASE__URL", "APP__REDIS__URL", "APP__STATE__KEY_PREFIX", "APP__SERVER__DRAIN_SECS"):
            if key not in env:
                fail(f"compose: {base} replicas do not set {key}")
        if base == "runtime" and "APP__EXECUTIONS__LEASE_MS" not in env:
            fail("compose: runtime replicas do not set APP__EXECUTIONS__LEASE_MS")
        drain = int(env.get("APP__SERVER__DRAIN_SECS") or 0)
        shutdown = int(env.get("APP__SERVER__SHUTDOWN_TIMEOUT_SECS") or SHUTDOWN_TIMEOUT_SECS)
        grace = seconds(first.get("stop_grace_period", "10s"))
        if grace <= drain + shutdown:
            fail(f"compose: {base} stop_grace_period {grace:g}s must exceed drain {drain}s + shutdown {shutdown}s")

    # The experience replicas reach every runtime replica through APP__RUNTIME__URL.
    runtime_urls = str(env_of(services.get("experience-1", {})).get("APP__RUNTIME__URL", ""))
    named = set()
    for url in filter(None, (u.strip() for u in runtime_urls.split(","))):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            fail(f"compose: APP__RUNTIME__URL entry {url!r} is not an http(s) base URL")
            continue
        if parts.hostname not in services:
            fail(f"compose: APP__RUNTIME__URL names {parts.hostname!r}, which is no Compose service")
        named.add(parts.hostname)
    for replica in groups.get("runtime", []):
        if replica not in named:
            fail(f"compose: APP__RUNTIME__URL does not list {replica}")

    # The load balancer publishes 8001 and its upstream is exactly the experience replicas.
    lb = services.get("lb")
    if lb is None:
        fail("compose: no lb service")
        return
    if not any(published_8001(p) for p in lb.get("ports") or []):
        fail("compose: lb does not publish 8001")
    mounts = [str(v).split(":") for v in lb.get("volumes") or []]
    conf_src = next((m[0] for m in mounts if len(m) >= 2 and m[1] == "/etc/nginx/nginx.conf"), None)
    if conf_src is None:
        fail("compose: lb does not mount an nginx.conf at /etc/nginx/nginx.conf")
        return
    conf_path = (DEPLOY / conf_src).resolve()
    if not conf_path.is_file():
        fail(f"compose: lb mounts {conf_src}, which does not exist")
        return
    conf = conf_path.read_text()
    hosts = upstream_hosts(conf)
    for host, port in hosts:
        if host not in services:
            fail(f"nginx: upstream server {host}:{port} is no Compose service")
        elif str(port) not in [str(p) for p in services[host].get("expose") or []]:
            fail(f"nginx: upstream server {host}:{port}, but {host} does not expose {port}")
    for replica in groups.get("experience", []):
        if replica not in {h for h, _ in hosts}:
            fail(f"nginx: the upstream does not list {replica}")
    for dep in {h for h, _ in hosts}:
        if dep not in (lb.get("depends_on") or {}):
            fail(f"compose: lb must depend on {dep} (nginx resolves its upstream at start)")
    if "/api/runtime/agent" not in conf or "$http_upgrade" not in conf:
        fail("nginx: no WebSocket (Upgrade) handling for /api/runtime/agent")

    if nginx_out is not None:
        # Only names that are Compose services are mapped; any other name is left for nginx to
        # (fail to) resolve.
        known = [h for h in dict.fromkeys(h for h, _ in hosts) if h in services]
        mapping = {host: f"127.0.0.{i}" for i, host in enumerate(known, start=1)}
        out = []
        for line in conf.splitlines(keepends=True):
            m = UPSTREAM_SERVER.match(line.rstrip("\n"))
            if m and m["host"] in mapping:
                line = f"{m['indent']}{mapping[m['host']]}:{m['port']}{m['rest']}\n"
            elif re.match(r"^\s*pid\s", line):
                # `nginx -t` creates the pid file: keep it inside the test's own directory.
                line = "pid nginx.pid;\n"
                print("    for nginx -t: pid file -> the test directory (nginx -t creates it)")
            out.append(line)
        nginx_out.write_text("".join(out))
        for host, addr in mapping.items():
            print(f"    for nginx -t: upstream host {host} -> {addr} (Compose names resolve only inside Compose)")


def load_all(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def check_k8s() -> None:
    k8s = DEPLOY / "k8s"
    kustomization = yaml.safe_load((k8s / "kustomization.yaml").read_text())
    if kustomization.get("kind") != "Kustomization" or not str(kustomization.get("apiVersion", "")).startswith(
        "kustomize.config.k8s.io/"
    ):
        fail("k8s: kustomization.yaml is not a kustomize.config.k8s.io Kustomization")
    listed = kustomization.get("resources") or []
    for res in listed:
        if not (k8s / res).is_file():
            fail(f"k8s: kustomization.yaml lists {res}, which does not exist")
        if res.startswith("secret"):
            fail(f"k8s: kustomization.yaml must not list the Secret template {res}")
    for path in sorted(k8s.glob("*.yaml")):
        if path.name not in listed and path.name != "kustomization.yaml" and not path.name.startswith("secret"):
            fail(f"k8s: {path.name} is not listed in kustomization.yaml")

    docs = [d for res in listed if (k8s / res).is_file() for d in load_all(k8s / res)]
    by_kind: dict[str, list[dict]] = {}
    for d in docs:
        by_kind.setdefault(d.get("kind"), []).append(d)
    configmaps = {c["metadata"]["name"]: c.get("data") or {} for c in by_kind.get("ConfigMap", [])}
    services = {s["metadata"]["name"]: s for s in by_kind.get("Service", [])}
    pdbs = by_kind.get("PodDisruptionBudget", [])

    for dep in by_kind.get("Deployment", []):
        name = dep["metadata"]["name"]
        spec = dep["spec"]
        pod = spec["template"]
        labels = pod["metadata"].get("labels") or {}
        if not isinstance(spec.get("replicas", 1), int) or spec.get("replicas", 1) < 2:
            fail(f"k8s: Deployment {name} runs fewer than 2 replicas")
        ru = (spec.get("strategy") or {}).get("rollingUpdate") or {}
        if ru.get("maxUnavailable") != 0 or ru.get("maxSurge") != 1:
            fail(f"k8s: Deployment {name} rolling update must be maxUnavailable 0, maxSurge 1")
        matching = [
            p for p in pdbs
            if (p["spec"].get("selector") or {}).get("matchLabels")
            and all(labels.get(k) == v for k, v in p["spec"]["selector"]["matchLabels"].items())
        ]
        if not matching:
            fail(f"k8s: no PodDisruptionBudget selects the pods of {name}")
        if not (pod["spec"].get("affinity") or {}).get("podAntiAffinity"):
            fail(f"k8s: Deployment {name} has no pod anti-affinity")
        env: dict = {}
        for c in pod["spec"]["containers"]:
            if ((c.get("readinessProbe") or {}).get("httpGet") or {}).get("path") != "/health/ready":
                fail(f"k8s: {name}/{c['name']} readinessProbe is not GET /health/ready")
            if ((c.get("livenessProbe") or {}).get("httpGet") or {}).get("path") != "/health/live":
                fail(f"k8s: {name}/{c['name']} livenessProbe is not GET /health/live")
            for ref in c.get("envFrom") or []:
                cm = (ref.get("configMapRef") or {}).get("name")
                if cm is not None:
                    if cm not in configmaps:
                        fail(f"k8s: {name} reads ConfigMap {cm}, which is not in the manifests")
                    env.update(configmaps.get(cm, {}))
        if "APP__SERVER__DRAIN_SECS" not in env:
            fail(f"k8s: {name} has no APP__SERVER__DRAIN_SECS")
        drain = int(env.get("APP__SERVER__DRAIN_SECS") or 0)
        shutdown = int(env.get("APP__SERVER__SHUTDOWN_TIMEOUT_SECS") or SHUTDOWN_TIMEOUT_SECS)
        grace = pod["spec"].get("terminationGracePeriodSeconds", 30)
        if grace <= drain + shutdown:
            fail(f"k8s: {name} terminationGracePeriodSeconds {grace} must exceed drain {drain} + shutdown {shutdown}")
        if name == "runtime-service" and "APP__EXECUTIONS__LEASE_MS" not in env:
            fail("k8s: runtime-service has no APP__EXECUTIONS__LEASE_MS")
        if name == "experience-service":
            for url in str(env.get("APP__RUNTIME__URL", "")).split(","):
                host = urlsplit(url.strip()).hostname or ""
                if host.split(".")[0] not in services:
                    fail(f"k8s: APP__RUNTIME__URL {url!r} does not name a Service in the manifests")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nginx-test-config", type=Path, help="write the nginx config for `nginx -t` here")
    args = parser.parse_args()
    try:
        check_compose(args.nginx_test_config)
        check_k8s()
    except (KeyError, TypeError, ValueError, yaml.YAMLError) as e:  # a shape the checks did not expect
        fail(f"unexpected structure: {type(e).__name__}: {e}")
    for e in errors:
        print(f"  {e}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
