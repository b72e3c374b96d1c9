//! The `notifications` and `notification_reads` tables. Who sees a notification is its
//! `audience`: `user:<id>`, `admins` (every admin and owner) or `admins!<id>` (every admin but
//! that user, who got a personal copy). Read state is per reader.

use platform_sdk::live_wire::Notification;
use platform_sdk::page::{start_after, Cursor, PageRequest};
use platform_sdk::time_util::rfc3339_ms;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Row as _};

/// A reader: whose notifications, and whether they see the admins'.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    /// Tenant.
    pub tenant_id: &'a str,
    /// User.
    pub user_id: &'a str,
    /// Admin or owner of the tenant.
    pub admin: bool,
}

impl Reader<'_> {
    fn own(&self) -> String {
        crate::live::user_audience(self.user_id)
    }

    fn excluded(&self) -> String {
        format!("admins!{}", self.user_id)
    }
}

/// The audience condition on `n` for reader parameters `$1` tenant, `$2` own audience, `$3`
/// admin (1/0), `$4` the excluded admins audience.
const VISIBLE: &str = "n.tenant_id = $1 AND (n.audience = $2 OR ($3 = 1 AND n.audience LIKE 'admins%' AND n.audience <> $4))";

/// A new notification's stored fields.
#[derive(Debug, Clone)]
pub struct NewRow<'a> {
    /// `ntf_…`.
    pub id: &'a str,
    /// Tenant.
    pub tenant_id: &'a str,
    /// Audience.
    pub audience: &'a str,
    /// Type.
    pub kind: &'a str,
    /// Title.
    pub title: &'a str,
    /// Body.
    pub body: &'a str,
    /// `info`, `warning` or `critical`.
    pub severity: &'a str,
    /// JSON data.
    pub data: &'a serde_json::Value,
    /// Epoch ms.
    pub now: i64,
}

/// Inserts a notification on the caller's connection.
pub async fn insert(conn: &mut AnyConnection, n: &NewRow<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO notifications (id, tenant_id, audience, type, title, body, severity, data, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(n.id)
    .bind(n.tenant_id)
    .bind(n.audience)
    .bind(n.kind)
    .bind(n.title)
    .bind(n.body)
    .bind(n.severity)
    .bind(n.data.to_string())
    .bind(n.now)
    .execute(&mut *conn)
    .await
    .map(|_| ())
}

fn notification(r: &AnyRow) -> Result<(Notification, i64), sqlx::Error> {
    let data: String = r.try_get(6)?;
    let created: i64 = r.try_get(7)?;
    let read: Option<i64> = r.try_get(8)?;
    Ok((
        Notification {
            id: r.try_get(0)?,
            kind: r.try_get(2)?,
            title: r.try_get(3)?,
            body: r.try_get(4)?,
            severity: r.try_get(5)?,
            data: serde_json::from_str(&data).unwrap_or(serde_json::Value::Null),
            created_at: rfc3339_ms(created),
            read_at: read.map(rfc3339_ms),
        },
        created,
    ))
}

/// A page of the reader's notifications, newest first, and the next cursor.
pub async fn page(
    pool: &AnyPool,
    reader: &Reader<'_>,
    unread_only: bool,
    page: &PageRequest,
) -> Result<(Vec<Notification>, Option<String>), sqlx::Error> {
    let (key, after_id) = start_after(page.after.as_ref());
    let unread = if unread_only {
        " AND r.read_at IS NULL"
    } else {
        ""
    };
    let mut rows = sqlx::query(&format!(
        "SELECT n.id, n.audience, n.type, n.title, n.body, n.severity, n.data, n.created_at, r.read_at \
         FROM notifications n LEFT JOIN notification_reads r ON r.notification_id = n.id AND r.user_id = $5 \
         WHERE {VISIBLE}{unread} AND (n.created_at < $6 OR (n.created_at = $6 AND n.id < $7)) \
         ORDER BY n.created_at DESC, n.id DESC LIMIT $8"
    ))
    .bind(reader.tenant_id)
    .bind(reader.own())
    .bind(i64::from(reader.admin))
    .bind(reader.excluded())
    .bind(reader.user_id)
    .bind(key)
    .bind(after_id)
    .bind(page.fetch())
    .fetch_all(pool)
    .await?
    .iter()
    .map(notification)
    .collect::<Result<Vec<_>, _>>()?;
    let next = page.finish(&mut rows, |(n, created)| Cursor {
        key: *created,
        id: n.id.clone(),
    });
    Ok((rows.into_iter().map(|(n, _)| n).collect(), next))
}

/// How many of the reader's notifications are unread.
pub async fn unread_count(
    conn: &mut AnyConnection,
    reader: &Reader<'_>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(&format!(
        "SELECT COUNT(*) FROM notifications n WHERE {VISIBLE} AND NOT EXISTS \
         (SELECT 1 FROM notification_reads r WHERE r.notification_id = n.id AND r.user_id = $5)"
    ))
    .bind(reader.tenant_id)
    .bind(reader.own())
    .bind(i64::from(reader.admin))
    .bind(reader.excluded())
    .bind(reader.user_id)
    .fetch_one(&mut *conn)
    .await
}

/// Marks the reader's unread notifications read (only `ids` when given, else all); answers how
/// many were marked. Ids the reader cannot see are ignored.
pub async fn mark_read(
    conn: &mut AnyConnection,
    reader: &Reader<'_>,
    ids: Option<&[String]>,
    now: i64,
) -> Result<u64, sqlx::Error> {
    let only = match ids {
        None => String::new(),
        Some(ids) => {
            let list: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 7)).collect();
            format!(" AND n.id IN ({})", list.join(", "))
        }
    };
    let sql = format!(
        "INSERT INTO notification_reads (notification_id, tenant_id, user_id, read_at) \
         SELECT n.id, n.tenant_id, $5, $6 FROM notifications n WHERE {VISIBLE}{only} AND NOT EXISTS \
         (SELECT 1 FROM notification_reads r WHERE r.notification_id = n.id AND r.user_id = $5) \
         ON CONFLICT DO NOTHING"
    );
    let mut query = sqlx::query(&sql)
        .bind(reader.tenant_id)
        .bind(reader.own())
        .bind(i64::from(reader.admin))
        .bind(reader.excluded())
        .bind(reader.user_id)
        .bind(now);
    for id in ids.unwrap_or_default() {
        query = query.bind(id);
    }
    query.execute(&mut *conn).await.map(|r| r.rows_affected())
}
