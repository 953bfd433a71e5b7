//! Every human wording of sizes, durations, times and expiries, in one place: what the CLI
//! prints and the GUI shows read the same.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use time::OffsetDateTime;

/// "1h30m", "15m", "7d": the same form the parser accepts.
pub fn format_compact(d: Duration) -> String {
    let mut s = d.as_secs();
    if s == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, len) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
        if s >= len {
            let _ = write!(out, "{}{unit}", s / len);
            s %= len;
        }
    }
    out
}

/// "15 minutes", "2 hours 30 minutes", "7 days": the largest two units, in words.
pub fn format_duration(d: Duration) -> String {
    let secs = d.as_secs();
    let parts = [
        (86_400, "day"),
        (3600, "hour"),
        (60, "minute"),
        (1, "second"),
    ];
    let mut words = Vec::new();
    let mut rest = secs;
    for (len, name) in parts {
        if rest >= len && words.len() < 2 {
            let n = rest / len;
            rest %= len;
            words.push(format!("{n} {name}{}", if n == 1 { "" } else { "s" }));
        } else if !words.is_empty() {
            // Stop after the first unit that is zero: "1 day 3 seconds" reads oddly.
            break;
        }
    }
    if words.is_empty() {
        "0 seconds".into()
    } else {
        words.join(" ")
    }
}

/// The local time zone offset, read once at start-up: the `time` crate cannot read it safely
/// once other threads run, so `main` calls [`init_local_offset`] first thing.
static LOCAL_OFFSET: std::sync::OnceLock<time::UtcOffset> = std::sync::OnceLock::new();

/// Read the local UTC offset while the process is still single-threaded. Times then show in
/// local time; without it they show in UTC, marked so.
pub fn init_local_offset() {
    if let Ok(off) = time::UtcOffset::current_local_offset() {
        let _ = LOCAL_OFFSET.set(off);
    }
}

/// "in 15 minutes, at 14:05" or, further than a day away, "in 7 days, at Tue 1 Dec 14:05".
pub fn describe_deadline(now: OffsetDateTime, deadline: OffsetDateTime) -> String {
    let left = (deadline - now).max(time::Duration::ZERO);
    let left = Duration::from_secs(left.whole_seconds().unsigned_abs());
    format!(
        "in {}, at {}",
        format_duration(round_for_people(left)),
        format_clock(now, deadline)
    )
}

/// Past two minutes, seconds are noise: "10 minutes", not "9 minutes 59 seconds".
pub fn round_for_people(d: Duration) -> Duration {
    if d.as_secs() >= 120 {
        Duration::from_secs((d.as_secs() + 30) / 60 * 60)
    } else {
        d
    }
}

/// The deadline as a person reads a clock, in local time where it is known (else UTC, marked).
pub fn format_clock(now: OffsetDateTime, at: OffsetDateTime) -> String {
    let (at, zone) = local_and_zone(at);
    let same_day = (at - now).whole_hours() < 20;
    let fmt = if same_day {
        time::macros::format_description!("[hour]:[minute]")
    } else {
        time::macros::format_description!(
            "[weekday repr:short] [day padding:none] [month repr:short] [hour]:[minute]"
        )
    };
    format!("{}{zone}", at.format(&fmt).unwrap_or_default())
}

/// "15 min", "1 h 30 min", "1 day", "45 s": short words for chips and toasts.
pub fn format_compact_words(d: Duration) -> String {
    let s = d.as_secs();
    let (days, hours, mins, secs) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60, s % 60);
    let mut parts = Vec::new();
    if days > 0 {
        parts.push(format!("{days} {}", if days == 1 { "day" } else { "days" }));
    }
    if hours > 0 {
        parts.push(format!("{hours} h"));
    }
    if mins > 0 && days == 0 {
        parts.push(format!("{mins} min"));
    }
    if secs > 0 && s < 120 {
        parts.push(format!("{secs} s"));
    }
    if parts.is_empty() {
        parts.push("0 s".into());
    }
    parts.join(" ")
}

/// `at` in local time where it is known, else UTC.
pub fn to_local(at: OffsetDateTime) -> OffsetDateTime {
    local_and_zone(at).0
}

/// `at` in local time, with nothing to add; else in UTC, with " UTC" to print after it.
fn local_and_zone(at: OffsetDateTime) -> (OffsetDateTime, &'static str) {
    match LOCAL_OFFSET.get() {
        Some(off) => (at.to_offset(*off), ""),
        None => (at.to_offset(time::UtcOffset::UTC), " UTC"),
    }
}

/// "Tue 14:05", or "Tue 1 Dec 14:05" six days or more away: the deadline with its weekday, in
/// local time where it is known (else UTC, marked).
pub fn format_weekday_clock(now: OffsetDateTime, at: OffsetDateTime) -> String {
    let (at, zone) = local_and_zone(at);
    let fmt = if (at - now).whole_days() < 6 {
        time::macros::format_description!("[weekday repr:short] [hour]:[minute]")
    } else {
        time::macros::format_description!(
            "[weekday repr:short] [day padding:none] [month repr:short] [hour]:[minute]"
        )
    };
    format!("{}{zone}", at.format(&fmt).unwrap_or_default())
}

/// ISO-8601 / RFC 3339 in UTC, to the second: `2026-11-23T14:05:00Z`.
pub fn format_iso(at: OffsetDateTime) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    at.to_offset(time::UtcOffset::UTC)
        .format(&fmt)
        .unwrap_or_default()
}

/// "3 December 2026, 14:41 UTC": a time for people anywhere (the pages s3share writes, which
/// are read in any time zone).
pub fn format_utc_words(at: OffsetDateTime) -> String {
    let fmt = time::macros::format_description!(
        "[day padding:none] [month repr:long] [year], [hour]:[minute] UTC"
    );
    at.to_offset(time::UtcOffset::UTC)
        .format(&fmt)
        .unwrap_or_else(|_| format_iso(at))
}

/// Text safe inside HTML, in an element or a quoted attribute.
pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// 1234567 -> "1,234,567"
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// 1536 -> "1.5 KiB"
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else if value < 10.0 {
        format!("{value:.1} {}", UNITS[unit])
    } else {
        format!("{value:.0} {}", UNITS[unit])
    }
}

/// A size someone chose (a request's largest file), in the unit they likely typed: an exact
/// number of MB (powers of 1000) reads "100 MB (95.4 MiB)", an exact number of MiB "2 GiB";
/// anything else as [`human_size`].
pub fn size_as_chosen(bytes: u64) -> String {
    const BINARY: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    const DECIMAL: [&str; 4] = ["KB", "MB", "GB", "TB"];
    let exact = |base: u64, units: &[&'static str; 4]| {
        (1..=4u32).rev().find_map(|power| {
            let unit = base.pow(power);
            (bytes >= unit && bytes.is_multiple_of(unit))
                .then(|| (bytes / unit, units[power as usize - 1]))
        })
    };
    if let Some((n, unit)) = exact(1024, &BINARY) {
        return format!("{n} {unit}");
    }
    if let Some((n, unit)) = exact(1000, &DECIMAL) {
        let binary = human_size(bytes);
        return format!("{n} {unit} ({binary})");
    }
    human_size(bytes)
}

/// Read a size as people write it: `500B`, `1KB`, `100MB`, `2GiB`, `1.5GB`, or a bare number of
/// bytes. KB/MB/GB/TB are powers of 1000, KiB/MiB/GiB/TiB powers of 1024; case and a space
/// before the unit do not matter.
pub fn parse_size(text: &str) -> Result<u64, super::error::Error> {
    let t = text.trim();
    let bad = || {
        super::error::Error::invalid(format!(
            "Not a size: {t:?}. Use a number and a unit: 500B, 1KB, 100MB, 2GiB"
        ))
    };
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" | "k" => 1000,
        "mb" | "m" => 1000_u64.pow(2),
        "gb" | "g" => 1000_u64.pow(3),
        "tb" | "t" => 1000_u64.pow(4),
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "tib" => 1 << 40,
        _ => return Err(bad()),
    };
    if number.is_empty() || number.starts_with('.') || number.matches('.').count() > 1 {
        return Err(bad());
    }
    let value: f64 = number.parse().map_err(|_| bad())?;
    let bytes = value * factor as f64;
    if !bytes.is_finite() || bytes >= u64::MAX as f64 || bytes.fract() != 0.0 {
        return Err(bad());
    }
    Ok(bytes as u64)
}

/// "2.3 MiB/s, 12 seconds left"
pub fn rate_and_time_left(bytes_per_sec: f64, left: Option<Duration>) -> String {
    let rate = format!("{}/s", human_size(bytes_per_sec as u64));
    match left {
        Some(left) => format!("{rate}, {} left", format_duration(left)),
        None => rate,
    }
}

/// "14:05" today, "23 Nov 14:05" this year, else "23 Nov 2024": a listing's modified time.
pub fn format_modified(now: OffsetDateTime, at: OffsetDateTime) -> String {
    let at = to_local(at);
    let now = to_local(now);
    let fmt = if at.date() == now.date() {
        time::macros::format_description!("[hour]:[minute]")
    } else if at.year() == now.year() {
        time::macros::format_description!("[day padding:none] [month repr:short] [hour]:[minute]")
    } else {
        time::macros::format_description!("[day padding:none] [month repr:short] [year]")
    };
    at.format(&fmt).unwrap_or_default()
}

/// "in 15 min (14:05)": when something copied expires, for a toast.
pub fn expiry_phrase(now: SystemTime, at: SystemTime) -> String {
    let left = round_for_people(at.duration_since(now).unwrap_or_default());
    format!(
        "in {} ({})",
        format_compact_words(left),
        format_clock(OffsetDateTime::from(now), OffsetDateTime::from(at))
    )
}

/// "Expires Tue 14:05 (in 15 minutes)"
pub fn expires_line(now: SystemTime, at: SystemTime) -> String {
    let now = OffsetDateTime::from(now);
    let at = OffsetDateTime::from(at);
    let left = (at - now).max(time::Duration::ZERO);
    let left = Duration::from_secs(left.whole_seconds().unsigned_abs());
    format!(
        "Expires {} (in {})",
        format_weekday_clock(now, at),
        format_duration(round_for_people(left))
    )
}

/// The GUI's amber note for a link that temporary credentials end at `real` instead of `asked`.
pub fn cut_short_note(signed_at: SystemTime, asked: SystemTime, real: SystemTime) -> String {
    let now = OffsetDateTime::from(signed_at);
    format!(
        "This link stops working at {}, not {}: it is signed with temporary credentials (SSO, an assumed role or a session token) that expire then. Sign with long-term credentials for a longer link.",
        format_clock(now, OffsetDateTime::from(real)),
        format_clock(now, OffsetDateTime::from(asked)),
    )
}

/// An upload request that ends before the time asked for, in the CLI and the app alike.
pub const REQUEST_CUT_SHORT: &str = "The request ends early: the signing credentials are temporary and expire before the time asked for. Sign with long-term credentials for a longer one.";

/// The CLI's warning for a link cut short so: both times, and what to do.
pub fn cut_short_warning(signed_at: SystemTime, requested: Duration, real: SystemTime) -> String {
    let now = OffsetDateTime::from(signed_at);
    let asked_end = now + requested;
    let real_end = OffsetDateTime::from(real);
    let real_left = Duration::from_secs((real_end - now).whole_seconds().max(0).unsigned_abs());
    format!(
        "warning: the link was asked to last {} (until {}), but it stops working in {} (at {}), when the signing credentials expire (temporary credentials: SSO, an assumed role or a session token). Sign with long-term credentials for a longer link.",
        format_duration(requested),
        format_clock(now, asked_end),
        format_duration(round_for_people(real_left)),
        format_clock(now, real_end),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(parse_size("500B").ok(), Some(500));
        assert_eq!(parse_size("1KB").ok(), Some(1000));
        assert_eq!(parse_size("100MB").ok(), Some(100_000_000));
        assert_eq!(parse_size("2GiB").ok(), Some(2 << 30));
        assert_eq!(parse_size("5 mib").ok(), Some(5 << 20));
        assert_eq!(parse_size("1.5GB").ok(), Some(1_500_000_000));
        assert_eq!(parse_size("4096").ok(), Some(4096));
        for bad in [
            "",
            "MB",
            "1.5",
            "1..5MB",
            "-1MB",
            "1XB",
            "0.5B",
            "99999999999TiB",
        ] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sizes_and_counts() {
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(12), "12 B");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn a_chosen_size_reads_in_the_unit_typed() {
        let as_typed = |t: &str| size_as_chosen(parse_size(t).expect("size"));
        assert_eq!(as_typed("100MB"), "100 MB (95 MiB)");
        assert_eq!(as_typed("1.5GB"), "1500 MB (1.4 GiB)");
        assert_eq!(as_typed("2GiB"), "2 GiB");
        assert_eq!(as_typed("1KiB"), "1 KiB");
        assert_eq!(as_typed("3000"), "3 KB (2.9 KiB)");
        assert_eq!(as_typed("500B"), "500 B");
        assert_eq!(as_typed("1234567"), "1.2 MiB");
    }

    #[test]
    fn short_words_for_chips_and_toasts() {
        let words: Vec<String> = [300, 900, 3600, 86_400, 604_800]
            .into_iter()
            .map(|s| format_compact_words(Duration::from_secs(s)))
            .collect();
        assert_eq!(words, ["5 min", "15 min", "1 h", "1 day", "7 days"]);
        assert_eq!(
            format_compact_words(Duration::from_secs(5400)),
            "1 h 30 min"
        );
        assert_eq!(format_compact_words(Duration::from_secs(45)), "45 s");
    }

    #[test]
    fn durations_in_words() {
        assert_eq!(format_duration(Duration::from_secs(900)), "15 minutes");
        assert_eq!(
            format_duration(Duration::from_secs(5400)),
            "1 hour 30 minutes"
        );
        assert_eq!(format_duration(Duration::from_secs(86_401)), "1 day");
        assert_eq!(format_duration(Duration::from_secs(1)), "1 second");
        assert_eq!(format_compact(Duration::from_secs(5400)), "1h30m");
    }

    #[test]
    fn describes_a_deadline() {
        let now = time::macros::datetime!(2026-11-23 13:50 UTC);
        let text = describe_deadline(now, now + Duration::from_secs(900));
        assert!(text.starts_with("in 15 minutes, at "), "{text}");
        assert_eq!(format_iso(now), "2026-11-23T13:50:00Z");
    }
}
