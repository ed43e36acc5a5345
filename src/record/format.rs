//! Time and size as records store them and as people read them: shared by
//! the executor, the run store and every reporter.

use std::time::{Duration, SystemTime};

/// Milliseconds in a duration, rounded to the nearest.
pub fn millis(duration: Duration) -> u64 {
    u64::try_from((duration.as_micros() + 500) / 1000).unwrap_or(u64::MAX)
}

/// An RFC 3339 timestamp with milliseconds, in UTC.
pub fn timestamp(at: SystemTime) -> String {
    humantime::format_rfc3339_millis(at).to_string()
}

/// Parses a record's RFC 3339 timestamp.
pub fn parse_time(text: &str) -> Option<SystemTime> {
    humantime::parse_rfc3339_weak(text).ok()
}

/// Milliseconds from `start` to the timestamp `at`.
pub fn offset_ms(start: Option<SystemTime>, at: &str) -> Option<u64> {
    let at = parse_time(at)?;
    at.duration_since(start?).ok().map(millis)
}

/// `2026-11-26T02:32:22.114Z` → `2026-11-26 02:32:22`.
pub fn when(started_at: &str) -> String {
    let text = started_at.replacen('T', " ", 1);
    text.split('.')
        .next()
        .unwrap_or(&text)
        .trim_end_matches('Z')
        .to_string()
}

/// A duration for people: `41ms`, `1.25s`, `2s`, `2m 5s`, `1h`.
pub fn duration_ms(ms: u64) -> String {
    if ms < 1000 {
        return format!("{ms}ms");
    }
    if ms < 60_000 {
        return if ms % 1000 == 0 {
            format!("{}s", ms / 1000)
        } else {
            format!("{:.2}s", ms as f64 / 1000.0)
        };
    }
    let secs = ms / 1000;
    let parts = [
        (secs / 3600, "h"),
        ((secs % 3600) / 60, "m"),
        (secs % 60, "s"),
    ];
    parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_drops_the_fraction_and_the_zone() {
        assert_eq!(when("2026-11-26T02:32:22.114Z"), "2026-11-26 02:32:22");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration_ms(41), "41ms");
        assert_eq!(duration_ms(1250), "1.25s");
        assert_eq!(duration_ms(2000), "2s");
        assert_eq!(duration_ms(60_000), "1m");
        assert_eq!(duration_ms(125_000), "2m 5s");
        assert_eq!(duration_ms(3_600_000), "1h");
    }

    #[test]
    fn millis_round_to_the_nearest() {
        assert_eq!(millis(Duration::from_micros(1499)), 1);
        assert_eq!(millis(Duration::from_micros(1500)), 2);
    }
}
