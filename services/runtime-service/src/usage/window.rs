//! The windows and buckets analytics are read over. Counters are kept per UTC hour, so a window
//! is a whole number of hours ending with the current one: `24h` is the current hour and the 23
//! before it (up to an hour more than 24 h of history, never less). Buckets are those hours, or
//! the UTC days that contain them.

use super::storage::Hours;
use crate::error::RuntimeError;

/// One hour, ms.
pub const HOUR_MS: i64 = 3_600_000;
/// One day, ms.
const DAY_MS: i64 = 24 * HOUR_MS;

/// The start of the UTC hour holding `ms`.
pub fn hour_of(ms: i64) -> i64 {
    ms - ms.rem_euclid(HOUR_MS)
}

/// A window analytics are read over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// The current hour.
    Hour,
    /// The last 24 hours.
    Day,
    /// The last 7 days.
    Week,
    /// The last 30 days.
    Month,
}

impl Window {
    /// Parses `1h`, `24h`, `7d` or `30d`; absent means `24h`.
    pub fn parse(raw: Option<&str>) -> Result<Self, RuntimeError> {
        Ok(match raw.unwrap_or("24h") {
            "1h" => Self::Hour,
            "24h" => Self::Day,
            "7d" => Self::Week,
            "30d" => Self::Month,
            _ => {
                return Err(RuntimeError::Validation {
                    field: "window",
                    message: "must be 1h, 24h, 7d or 30d".into(),
                })
            }
        })
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hour => "1h",
            Self::Day => "24h",
            Self::Week => "7d",
            Self::Month => "30d",
        }
    }

    fn hours(self) -> i64 {
        match self {
            Self::Hour => 1,
            Self::Day => 24,
            Self::Week => 7 * 24,
            Self::Month => 30 * 24,
        }
    }

    /// The first hour (epoch ms) of the window ending with the hour of `now`.
    pub fn first_hour(self, now: i64) -> i64 {
        hour_of(now) - (self.hours() - 1) * HOUR_MS
    }

    /// The hours of the window ending with the hour of `now`.
    pub fn hours_until(self, now: i64) -> Hours {
        Hours {
            first: self.first_hour(now),
            last: hour_of(now),
        }
    }
}

/// The bucket size of a performance read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// UTC hours.
    Hour,
    /// UTC days.
    Day,
}

impl Bucket {
    /// Parses `hour` or `day`; absent means `hour`.
    pub fn parse(raw: Option<&str>) -> Result<Self, RuntimeError> {
        match raw.unwrap_or("hour") {
            "hour" => Ok(Self::Hour),
            "day" => Ok(Self::Day),
            _ => Err(RuntimeError::Validation {
                field: "bucket",
                message: "must be hour or day".into(),
            }),
        }
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hour => "hour",
            Self::Day => "day",
        }
    }

    /// Its length, ms (buckets start at multiples of it).
    pub fn millis(self) -> i64 {
        match self {
            Self::Hour => HOUR_MS,
            Self::Day => DAY_MS,
        }
    }

    /// The start of the bucket holding the hour `hour`.
    pub fn start_of(self, hour: i64) -> i64 {
        hour - hour.rem_euclid(self.millis())
    }

    /// The start of every bucket from the one holding `first_hour` to the one holding `now`.
    pub fn starts(self, first_hour: i64, now: i64) -> Vec<i64> {
        let step = self.millis();
        let last = self.start_of(hour_of(now));
        let mut starts = Vec::new();
        let mut at = self.start_of(first_hour);
        while at <= last {
            starts.push(at);
            at += step;
        }
        starts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_whole_hours_ending_now() {
        let now = 1_796_000_000_123;
        assert_eq!(Window::parse(None).unwrap(), Window::Day);
        assert_eq!(Window::Hour.first_hour(now), hour_of(now));
        assert_eq!(Window::Day.first_hour(now), hour_of(now) - 23 * HOUR_MS);
        assert_eq!(hour_of(now) % HOUR_MS, 0);
        for bad in ["", "2h", "24H", "1d"] {
            let Err(RuntimeError::Validation { field, .. }) = Window::parse(Some(bad)) else {
                panic!("{bad} accepted");
            };
            assert_eq!(field, "window");
        }
    }

    #[test]
    fn buckets_cover_the_window() {
        let now = 1_796_000_000_123;
        let first = Window::Day.first_hour(now);
        assert_eq!(Bucket::Hour.starts(first, now).len(), 24);
        let days = Bucket::Day.starts(first, now);
        assert!((1..=2).contains(&days.len()));
        assert_eq!(days[0] % DAY_MS, 0);
        assert_eq!(
            Bucket::Day.starts(Window::Month.first_hour(now), now).len(),
            31
        );
        assert!(Bucket::parse(Some("week")).is_err());
    }
}
