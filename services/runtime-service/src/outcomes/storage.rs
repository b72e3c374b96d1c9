//! Outcomes in SQL: the events, and the per (tenant, domain, event type, metric) counters the
//! dashboard's summary reads. [`store`] writes both on the caller's connection (inside its
//! transaction: the one that posts an outcome, or the one that ends an execution,
//! [`crate::executions::storage::finish`]). Every read is bounded by an index range: a page, a
//! window of a metric's latest values, or the tenant's counter rows.

use platform_sdk::outcome_wire::{MetricType, OutcomeEvent, OutcomeSource};
use platform_sdk::page::{self, Cursor};
use platform_sdk::time_util::rfc3339_ms;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Row as _};

use super::input::Filter;

/// An outcome to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOutcome {
    /// Id (`outc_…`).
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// What it is about.
    pub domain: String,
    /// What happened.
    pub event_type: String,
    /// What is measured.
    pub metric_type: MetricType,
    /// A finite value.
    pub value: f64,
    /// When it happened, epoch ms.
    pub occurred_at: i64,
    /// Compact JSON object.
    pub metadata: String,
    /// Who posted it (or the execution's user).
    pub user_id: Option<String>,
    /// Posted or recorded from an execution.
    pub source: OutcomeSource,
    /// Stored, epoch ms.
    pub created_at: i64,
}

/// A new outcome id.
pub fn new_id() -> String {
    format!("outc_{}", uuid::Uuid::new_v4().simple())
}

fn source_name(source: OutcomeSource) -> &'static str {
    match source {
        OutcomeSource::Api => "api",
        OutcomeSource::Execution => "execution",
    }
}

/// `($a, $b, …), (…)`: `rows` groups of `width` numbered placeholders.
fn placeholders(rows: usize, width: usize) -> String {
    (0..rows)
        .map(|r| {
            let row: Vec<String> = (1..=width).map(|c| format!("${}", r * width + c)).collect();
            format!("({})", row.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Stores `outcomes` and counts them, in two statements on `conn` (run it inside the caller's
/// transaction).
pub async fn store(conn: &mut AnyConnection, outcomes: &[NewOutcome]) -> Result<(), sqlx::Error> {
    if outcomes.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO outcome_events (id, tenant_id, domain, event_type, metric_type, value, \
         occurred_at, metadata, user_id, source, created_at) VALUES {}",
        placeholders(outcomes.len(), 11)
    );
    let mut insert = sqlx::query(&sql);
    for o in outcomes {
        insert = insert
            .bind(&o.id)
            .bind(&o.tenant_id)
            .bind(&o.domain)
            .bind(&o.event_type)
            .bind(o.metric_type.as_str())
            .bind(o.value)
            .bind(o.occurred_at)
            .bind(&o.metadata)
            .bind(&o.user_id)
            .bind(source_name(o.source))
            .bind(o.created_at);
    }
    insert.execute(&mut *conn).await?;
    // One counter row per key: one upsert statement may not touch a row twice (PostgreSQL).
    let mut keys: Vec<(&NewOutcome, i64)> = Vec::with_capacity(outcomes.len());
    for o in outcomes {
        let same = |k: &&mut (&NewOutcome, i64)| {
            (
                &k.0.tenant_id,
                &k.0.domain,
                &k.0.event_type,
                k.0.metric_type,
            ) == (&o.tenant_id, &o.domain, &o.event_type, o.metric_type)
        };
        match keys.iter_mut().find(same) {
            Some(key) => key.1 += 1,
            None => keys.push((o, 1)),
        }
    }
    let sql = format!(
        "INSERT INTO outcome_counts (tenant_id, domain, event_type, metric_type, events) \
         VALUES {} ON CONFLICT (tenant_id, domain, event_type, metric_type) \
         DO UPDATE SET events = outcome_counts.events + excluded.events",
        placeholders(keys.len(), 5)
    );
    let mut count = sqlx::query(&sql);
    for (o, n) in keys {
        count = count
            .bind(&o.tenant_id)
            .bind(&o.domain)
            .bind(&o.event_type)
            .bind(o.metric_type.as_str())
            .bind(n);
    }
    count.execute(&mut *conn).await.map(|_| ())
}

/// Stores one posted outcome and counts it, in one transaction.
pub async fn insert(pool: &AnyPool, outcome: &NewOutcome) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    store(&mut tx, std::slice::from_ref(outcome)).await?;
    tx.commit().await
}

const COLUMNS: &str =
    "id, domain, event_type, metric_type, value, occurred_at, metadata, user_id, source, created_at";

/// A stored event with its sort key.
pub struct Stored {
    /// The event.
    pub event: OutcomeEvent,
    /// `occurred_at`, epoch ms (the cursor's key).
    pub occurred_at: i64,
}

fn metric(text: &str) -> Result<MetricType, sqlx::Error> {
    MetricType::parse(text)
        .ok_or_else(|| sqlx::Error::Decode(format!("unknown metric type `{text}`").into()))
}

fn stored(r: &AnyRow) -> Result<Stored, sqlx::Error> {
    let occurred_at: i64 = r.try_get(5)?;
    let metadata: String = r.try_get(6)?;
    let source: String = r.try_get(8)?;
    Ok(Stored {
        event: OutcomeEvent {
            id: r.try_get(0)?,
            domain: r.try_get(1)?,
            event_type: r.try_get(2)?,
            metric_type: metric(&r.try_get::<String, _>(3)?)?,
            value: r.try_get(4)?,
            occurred_at: rfc3339_ms(occurred_at),
            metadata: serde_json::from_str(&metadata).map_err(|e| sqlx::Error::Decode(e.into()))?,
            user_id: r.try_get(7)?,
            source: match source.as_str() {
                "execution" => OutcomeSource::Execution,
                _ => OutcomeSource::Api,
            },
            created_at: rfc3339_ms(r.try_get(9)?),
        },
        occurred_at,
    })
}

/// The `AND …` conditions of `filter`, numbered from `$first`, and the values to bind in order.
fn conditions<'a>(filter: &Filter<'a>, first: usize) -> (String, Vec<&'a str>) {
    let mut sql = String::new();
    let mut values = Vec::new();
    let named = [
        ("domain", filter.domain),
        ("event_type", filter.event_type),
        ("metric_type", filter.metric_type.map(MetricType::as_str)),
    ];
    for (column, value) in named {
        if let Some(value) = value {
            sql.push_str(&format!(" AND {column} = ${}", first + values.len()));
            values.push(value);
        }
    }
    (sql, values)
}

/// One page of a tenant's events, newest `occurred_at` first; `fetch` rows at most, after
/// `after`. Only the filters given appear in the statement, so each combination is its own
/// prepared statement with its own index.
pub async fn list(
    pool: &AnyPool,
    tenant_id: &str,
    filter: &Filter<'_>,
    after: Option<&Cursor>,
    fetch: i64,
) -> Result<Vec<Stored>, sqlx::Error> {
    let (key, id) = page::start_after(after);
    let (narrowed, values) = conditions(filter, 5);
    let sql = format!(
        "SELECT {COLUMNS} FROM outcome_events WHERE tenant_id = $1 \
         AND (occurred_at < $2 OR (occurred_at = $2 AND id < $3)){narrowed} \
         ORDER BY occurred_at DESC, id DESC LIMIT $4"
    );
    let mut query = sqlx::query(&sql)
        .bind(tenant_id)
        .bind(key)
        .bind(id)
        .bind(fetch);
    for value in values {
        query = query.bind(value);
    }
    query.fetch_all(pool).await?.iter().map(stored).collect()
}

/// A value with its sort key: `(occurred_at, id, value)`.
type Ranked = (i64, String, f64);

/// The latest `window` values of each metric in `metrics` (of one domain, or all), newest first,
/// in one statement (one index range per metric).
pub async fn latest_values(
    pool: &AnyPool,
    tenant_id: &str,
    domain: Option<&str>,
    metrics: &[MetricType],
    window: u32,
) -> Result<Vec<(MetricType, Vec<f64>)>, sqlx::Error> {
    let in_domain = match domain {
        Some(_) => " AND domain = $3",
        None => "",
    };
    let parts: Vec<String> = metrics
        .iter()
        .enumerate()
        .map(|(i, m)| {
            format!(
                "SELECT metric_type, value, occurred_at, id FROM (SELECT metric_type, value, \
                 occurred_at, id FROM outcome_events WHERE tenant_id = $1 AND metric_type = '{}'{in_domain} \
                 ORDER BY occurred_at DESC, id DESC LIMIT $2) AS m{i}",
                m.as_str()
            )
        })
        .collect();
    let sql = parts.join(" UNION ALL ");
    let mut query = sqlx::query(&sql).bind(tenant_id).bind(i64::from(window));
    if let Some(domain) = domain {
        query = query.bind(domain);
    }
    let rows = query.fetch_all(pool).await?;
    let mut out: Vec<(MetricType, Vec<Ranked>)> =
        metrics.iter().map(|m| (*m, Vec::new())).collect();
    for r in &rows {
        let m = metric(&r.try_get::<String, _>(0)?)?;
        if let Some((_, values)) = out.iter_mut().find(|(k, _)| *k == m) {
            values.push((r.try_get(2)?, r.try_get(3)?, r.try_get(1)?));
        }
    }
    // UNION ALL keeps no order across its parts: sort each metric's rows again.
    Ok(out
        .into_iter()
        .map(|(m, mut rows)| {
            rows.sort_by(|a, b| (b.0, &b.1).cmp(&(a.0, &a.1)));
            (m, rows.into_iter().map(|(_, _, v)| v).collect())
        })
        .collect())
}

/// One counter row: how many events of a (domain, event type, metric).
pub struct Count {
    /// Domain.
    pub domain: String,
    /// Event type.
    pub event_type: String,
    /// Metric.
    pub metric_type: MetricType,
    /// Events.
    pub events: i64,
}

const COUNTS_OF_DOMAIN: &str =
    "SELECT domain, event_type, metric_type, events FROM outcome_counts \
     WHERE tenant_id = $1 AND domain = $2";

/// The tenant's counter rows (of one domain, or all).
pub async fn counts(
    pool: &AnyPool,
    tenant_id: &str,
    domain: Option<&str>,
) -> Result<Vec<Count>, sqlx::Error> {
    let all =
        "SELECT domain, event_type, metric_type, events FROM outcome_counts WHERE tenant_id = $1";
    let query = match domain {
        Some(domain) => sqlx::query(COUNTS_OF_DOMAIN).bind(tenant_id).bind(domain),
        None => sqlx::query(all).bind(tenant_id),
    };
    query
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| {
            Ok(Count {
                domain: r.try_get(0)?,
                event_type: r.try_get(1)?,
                metric_type: metric(&r.try_get::<String, _>(2)?)?,
                events: r.try_get(3)?,
            })
        })
        .collect()
}
