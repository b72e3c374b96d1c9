//! Paging the activity feed, which merges several sources: the feed is ordered by `(at, key)`
//! newest first, where `key` is `<kind>:<id>`, and its cursor is the last item's `(at, key)`. Each
//! source is read from its own table after a bound derived from that cursor, so a page costs one
//! indexed range read per source, however deep.

use std::cmp::Ordering;

use platform_sdk::page::Cursor;
use platform_sdk::usage_wire::ActivityKind;

use super::storage::activity::{Before, Entry};

/// Where source `kind` continues after the feed cursor `after`.
pub fn before(kind: ActivityKind, after: Option<&Cursor>) -> Before {
    let Some(cursor) = after else {
        return Before {
            at: i64::MAX,
            id: String::new(),
        };
    };
    let (cursor_kind, cursor_id) = cursor.id.split_once(':').unwrap_or((&cursor.id, ""));
    match kind.as_str().cmp(cursor_kind) {
        // Same source: after the cursor's own row.
        Ordering::Equal => Before {
            at: cursor.key,
            id: cursor_id.to_owned(),
        },
        // Its rows at the cursor's instant sort below the cursor: all of them follow it.
        Ordering::Less => Before {
            at: cursor.key.saturating_add(1),
            id: String::new(),
        },
        // Its rows at the cursor's instant sort above it: they were on earlier pages.
        Ordering::Greater => Before {
            at: cursor.key,
            id: String::new(),
        },
    }
}

/// Sorts the sources' entries into feed order (newest first).
pub fn merge(mut entries: Vec<Entry>) -> Vec<Entry> {
    entries.sort_by(|a, b| (b.at, &b.key).cmp(&(a.at, &a.key)));
    entries
}

/// The feed cursor after `entry`.
pub fn cursor(entry: &Entry) -> Cursor {
    Cursor {
        key: entry.at,
        id: entry.key.clone(),
    }
}

#[cfg(test)]
mod tests {
    use platform_sdk::usage_wire::ActivityItem;

    use super::*;

    fn e(kind: ActivityKind, id: &str, at: i64) -> Entry {
        Entry {
            at,
            key: format!("{}:{id}", kind.as_str()),
            item: ActivityItem {
                at: String::new(),
                kind,
                summary: String::new(),
                execution_id: None,
                user_id: None,
            },
        }
    }

    /// Rows of one source after a bound, as its SQL reads them.
    fn after(rows: &[Entry], b: &Before) -> Vec<Entry> {
        rows.iter()
            .filter(|r| {
                let id = r.key.split_once(':').map_or("", |(_, id)| id);
                r.at < b.at || (r.at == b.at && id < b.id.as_str())
            })
            .cloned()
            .collect()
    }

    #[test]
    fn paging_through_ties_across_sources_sees_each_entry_once() {
        use ActivityKind::*;
        let all = vec![
            e(Execution, "a", 5),
            e(Execution, "b", 5),
            e(Tracked, "x", 5),
            e(Deployment, "d", 5),
            e(Execution, "c", 4),
            e(Tracked, "y", 6),
        ];
        let kinds = [Execution, Tracked, Deployment];
        let mut seen = Vec::new();
        let mut cursor_at: Option<Cursor> = None;
        loop {
            let mut fetched = Vec::new();
            for kind in kinds {
                let source: Vec<Entry> = all
                    .iter()
                    .filter(|x| x.item.kind == kind)
                    .cloned()
                    .collect();
                fetched.extend(after(&source, &before(kind, cursor_at.as_ref())));
            }
            let page: Vec<Entry> = merge(fetched).into_iter().take(2).collect();
            let Some(last) = page.last() else { break };
            cursor_at = Some(cursor(last));
            seen.extend(page.iter().map(|x| x.key.clone()));
        }
        let expected: Vec<String> = merge(all).iter().map(|x| x.key.clone()).collect();
        assert_eq!(seen, expected);
        assert_eq!(expected[0], "tracked:y");
    }
}
