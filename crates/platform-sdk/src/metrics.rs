//! A small Prometheus registry: request counts and latency histograms per route pattern, plus
//! named counters and gauges that the services bump (logins, refreshes, sessions, ...).
//!
//! Hand-rolled rather than a metrics framework because we need a dozen series and the hot path
//! must stay a read lock plus a few atomic adds (the `/api/auth/me` throughput target counts it).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpResponse};

/// Latency buckets, seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

#[derive(Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    fn observe(&self, seconds: f64) {
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add((seconds * 1_000_000.0) as u64, Ordering::Relaxed);
    }
}

/// Methods get a small index so a request is counted without building a key.
const METHODS: [&str; 8] = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "OTHER",
];

fn method_index(method: &str) -> u8 {
    METHODS
        .iter()
        .position(|m| *m == method)
        .unwrap_or(METHODS.len() - 1) as u8
}

/// Request counts of one route by (method, status), and its latency histogram.
#[derive(Default)]
struct RouteStats {
    counts: RwLock<BTreeMap<(u8, u16), AtomicU64>>,
    latency: Histogram,
}

/// The registry; cheap to clone (`Arc` inside).
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    service: &'static str,
    routes: RwLock<BTreeMap<String, RouteStats>>,
    counters: RwLock<BTreeMap<&'static str, AtomicU64>>,
    gauges: RwLock<BTreeMap<&'static str, AtomicI64>>,
    samplers: RwLock<Vec<(&'static str, Sampler)>>,
}

type Sampler = Box<dyn Fn() -> i64 + Send + Sync>;

fn bump<K: Ord + Clone>(map: &RwLock<BTreeMap<K, AtomicU64>>, key: &K, by: u64) {
    if let Ok(read) = map.read() {
        if let Some(c) = read.get(key) {
            c.fetch_add(by, Ordering::Relaxed);
            return;
        }
    }
    if let Ok(mut write) = map.write() {
        write
            .entry(key.clone())
            .or_default()
            .fetch_add(by, Ordering::Relaxed);
    }
}

impl Metrics {
    /// A registry for one service (`service` becomes a label).
    pub fn new(service: &'static str) -> Self {
        Self {
            inner: Arc::new(Inner {
                service,
                routes: RwLock::default(),
                counters: RwLock::default(),
                gauges: RwLock::default(),
                samplers: RwLock::default(),
            }),
        }
    }

    /// Adds one to a named counter (`symphainy_<name>_total`).
    pub fn incr(&self, name: &'static str) {
        bump(&self.inner.counters, &name, 1);
    }

    /// Moves a named gauge (`symphainy_<name>`) by `delta`.
    pub fn gauge_add(&self, name: &'static str, delta: i64) {
        if let Ok(read) = self.inner.gauges.read() {
            if let Some(g) = read.get(name) {
                g.fetch_add(delta, Ordering::Relaxed);
                return;
            }
        }
        if let Ok(mut write) = self.inner.gauges.write() {
            write
                .entry(name)
                .or_default()
                .fetch_add(delta, Ordering::Relaxed);
        }
    }

    /// Registers a gauge read when metrics are rendered (queue depths and the like).
    pub fn sample(&self, name: &'static str, read: impl Fn() -> i64 + Send + Sync + 'static) {
        if let Ok(mut samplers) = self.inner.samplers.write() {
            samplers.push((name, Box::new(read)));
        }
    }

    fn observe_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let key = (method_index(method), status);
        let record = |stats: &RouteStats| {
            bump(&stats.counts, &key, 1);
            stats.latency.observe(seconds);
        };
        if let Ok(read) = self.inner.routes.read() {
            if let Some(stats) = read.get(route) {
                record(stats);
                return;
            }
        }
        if let Ok(mut write) = self.inner.routes.write() {
            record(write.entry(route.to_owned()).or_default());
        }
    }

    /// Renders the Prometheus text exposition format.
    pub fn render(&self) -> String {
        let svc = self.inner.service;
        let mut out = String::new();
        out.push_str("# TYPE symphainy_http_requests_total counter\n");
        let routes = self.inner.routes.read();
        if let Ok(map) = &routes {
            for (route, stats) in map.iter() {
                if let Ok(counts) = stats.counts.read() {
                    for ((method, status), v) in counts.iter() {
                        let method = METHODS[usize::from(*method)];
                        let _ = writeln!(
                            out,
                            "symphainy_http_requests_total{{service=\"{svc}\",method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {}",
                            v.load(Ordering::Relaxed)
                        );
                    }
                }
            }
        }
        out.push_str("# TYPE symphainy_http_request_duration_seconds histogram\n");
        if let Ok(map) = &routes {
            for (route, stats) in map.iter() {
                let h = &stats.latency;
                for (i, bound) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "symphainy_http_request_duration_seconds_bucket{{service=\"{svc}\",route=\"{route}\",le=\"{bound}\"}} {}",
                        h.buckets[i].load(Ordering::Relaxed)
                    );
                }
                let count = h.count.load(Ordering::Relaxed);
                let _ = writeln!(out, "symphainy_http_request_duration_seconds_bucket{{service=\"{svc}\",route=\"{route}\",le=\"+Inf\"}} {count}");
                let _ = writeln!(
                    out,
                    "symphainy_http_request_duration_seconds_sum{{service=\"{svc}\",route=\"{route}\"}} {}",
                    h.sum_micros.load(Ordering::Relaxed) as f64 / 1_000_000.0
                );
                let _ = writeln!(out, "symphainy_http_request_duration_seconds_count{{service=\"{svc}\",route=\"{route}\"}} {count}");
            }
        }
        drop(routes);
        if let Ok(map) = self.inner.counters.read() {
            for (name, v) in map.iter() {
                let _ = writeln!(out, "# TYPE symphainy_{name}_total counter");
                let _ = writeln!(
                    out,
                    "symphainy_{name}_total{{service=\"{svc}\"}} {}",
                    v.load(Ordering::Relaxed)
                );
            }
        }
        if let Ok(map) = self.inner.gauges.read() {
            for (name, v) in map.iter() {
                let _ = writeln!(out, "# TYPE symphainy_{name} gauge");
                let _ = writeln!(
                    out,
                    "symphainy_{name}{{service=\"{svc}\"}} {}",
                    v.load(Ordering::Relaxed)
                );
            }
        }
        if let Ok(samplers) = self.inner.samplers.read() {
            for (name, read) in samplers.iter() {
                let _ = writeln!(out, "# TYPE symphainy_{name} gauge");
                let _ = writeln!(out, "symphainy_{name}{{service=\"{svc}\"}} {}", read());
            }
        }
        out
    }
}

/// Middleware (use with `from_fn`): counts every request by method, matched route (the resource
/// name, which `http::resource` sets to the pattern) and status, and records its latency.
/// Unmatched paths are grouped under `unmatched` so a scanner cannot blow up the label set.
pub async fn metrics_middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let method = req.method().clone();
    let res = next.call(req).await?;
    if let Some(metrics) = metrics {
        // Resources are named after their pattern (`http::resource`); anything else is grouped.
        let route = res.request().match_name().unwrap_or("unmatched");
        metrics.observe_request(
            method.as_str(),
            route,
            res.status().as_u16(),
            started.elapsed().as_secs_f64(),
        );
    }
    Ok(res)
}

/// `GET /metrics`.
pub async fn metrics_endpoint(metrics: web::Data<Metrics>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(metrics.render())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histograms() {
        let m = Metrics::new("test");
        m.incr("logins");
        m.incr("logins");
        m.gauge_add("open_sockets", 3);
        m.observe_request("GET", "/x", 200, 0.002);
        m.sample("queue_depth", || 7);
        let text = m.render();
        assert!(text.contains("symphainy_logins_total{service=\"test\"} 2"));
        assert!(text.contains("symphainy_open_sockets{service=\"test\"} 3"));
        assert!(text.contains("route=\"/x\",le=\"0.0025\"} 1"));
        assert!(text.contains("route=\"/x\",le=\"0.001\"} 0"));
        assert!(text.contains("symphainy_queue_depth{service=\"test\"} 7"));
    }
}
