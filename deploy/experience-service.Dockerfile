# syntax=docker/dockerfile:1
#
# experience-service image. Build context = repository root:
#   docker build -f deploy/experience-service.Dockerfile -t symphainy/experience-service:local .
# The ignore list for this build is deploy/experience-service.Dockerfile.dockerignore
# (BuildKit picks up "<Dockerfile>.dockerignore" next to the Dockerfile).

ARG RUST_VERSION=1.95

# ---------------------------------------------------------------- builder ---
FROM rust:${RUST_VERSION}-bookworm AS builder
WORKDIR /src
COPY . .
# Registry, git checkouts and target/ live in BuildKit cache mounts, so the
# binary has to be copied out of target/ inside the same RUN step.
RUN --mount=type=cache,id=symphainy-cargo-registry,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,id=symphainy-cargo-git,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,id=symphainy-target,target=/src/target,sharing=locked \
    cargo build --release --locked -p experience-service \
 && install -D -m 0755 target/release/experience-service /out/experience-service

# ---------------------------------------------------------------- runtime ---
FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 symphainy \
 && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin symphainy \
 && mkdir -p /app/data \
 && chown -R 10001:10001 /app/data
WORKDIR /app
COPY --from=builder /out/experience-service /usr/local/bin/experience-service

ENV APP__SERVER__HOST=0.0.0.0 \
    APP__SERVER__PORT=8001 \
    APP__LOG__FORMAT=json \
    APP__DATA_DIR=/app/data

# Numeric user so Kubernetes' runAsNonRoot can verify it.
USER 10001:10001
EXPOSE 8001
# On SIGTERM the service drains (server.drain_secs of 503 readiness), then lets in-flight
# requests finish (30 s): give it more than drain + 30 s
# (compose: stop_grace_period, k8s: terminationGracePeriodSeconds).
STOPSIGNAL SIGTERM
# No HEALTHCHECK: the image has no curl/wget. Probes are GET /health/live and
# GET /health/ready, wired up in deploy/k8s/*-deployment.yaml.
ENTRYPOINT ["/usr/local/bin/experience-service"]
