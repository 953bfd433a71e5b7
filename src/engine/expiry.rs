//! How long a link lives: parsing ("15m", "1h30m", "7d"), presets, bounds, and human wording.

use std::fmt;
use std::fmt::Write as _;
use std::str::FromStr;
use std::time::Duration;

use time::OffsetDateTime;

use super::error::Error;

/// A presigned link's requested lifetime, always within SigV4's bounds of 1 s ..= 7 days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Expiry(Duration);

impl Expiry {
    /// SigV4 query signatures are valid for at least one second.
    pub const MIN: Duration = Duration::from_secs(1);
    /// ... and at most seven days (X-Amz-Expires = 604800).
    pub const MAX: Duration = Duration::from_secs(7 * 24 * 3600);
    /// Short by default: a leaked link is a bearer token until it expires.
    pub const DEFAULT: Self = Self(Duration::from_secs(15 * 60));
    /// The choices offered first in the UI.
    pub const PRESETS: [Self; 5] = [
        Self(Duration::from_secs(5 * 60)),
        Self(Duration::from_secs(15 * 60)),
        Self(Duration::from_secs(3600)),
        Self(Duration::from_secs(24 * 3600)),
        Self(Duration::from_secs(7 * 24 * 3600)),
    ];

    /// An expiry of `d`, or an error that states the limits.
    pub fn new(d: Duration) -> Result<Self, Error> {
        if d < Self::MIN {
            Err(Error::invalid("A link must live at least 1 second"))
        } else if d > Self::MAX {
            Err(Error::invalid(format!(
                "A link can live at most 7 days (604800 seconds); {} is too long",
                format_duration(d)
            )))
        } else {
            Ok(Self(Duration::from_secs(d.as_secs())))
        }
    }

    pub fn duration(self) -> Duration {
        self.0
    }

    pub fn as_secs(self) -> u64 {
        self.0.as_secs()
    }

    /// "in 15 minutes, at 14:05" (local time when known), relative to `now`.
    pub fn describe_from(self, now: OffsetDateTime) -> String {
        describe_deadline(now, now + self.0)
    }
}

impl Default for Expiry {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl FromStr for Expiry {
    type Err = Error;

    /// Accepts `90s`, `15m`, `2h`, `1d`, `7d`, combinations such as `1h30m` (units in any order
    /// once each: d, h, m, s; `w` for a week), and a bare number of seconds.
    fn from_str(s: &str) -> Result<Self, Error> {
        let text = s.trim();
        let bad = || {
            Error::invalid(format!(
                "Not an expiry: {text:?}. Use a number and a unit: 90s, 15m, 2h, 1d, 7d or 1h30m"
            ))
        };
        if text.is_empty() {
            return Err(bad());
        }
        if text.bytes().all(|b| b.is_ascii_digit()) {
            let secs: u64 = text.parse().map_err(|_| bad())?;
            return Self::new(Duration::from_secs(secs));
        }
        let mut total: u64 = 0;
        let mut number = String::new();
        let mut seen = String::new();
        for c in text.chars() {
            if c.is_ascii_digit() {
                number.push(c);
                continue;
            }
            let unit = match c.to_ascii_lowercase() {
                'w' => 7 * 24 * 3600,
                'd' => 24 * 3600,
                'h' => 3600,
                'm' => 60,
                's' => 1,
                _ => return Err(bad()),
            };
            if number.is_empty() || seen.contains(c.to_ascii_lowercase()) {
                return Err(bad());
            }
            seen.push(c.to_ascii_lowercase());
            let n: u64 = number.parse().map_err(|_| bad())?;
            // Saturate: anything this large is over the limit anyway, and says so.
            total = total.saturating_add(n.saturating_mul(unit));
            number.clear();
        }
        if !number.is_empty() {
            return Err(bad());
        }
        Self::new(Duration::from_secs(total))
    }
}

impl fmt::Display for Expiry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_compact(self.0))
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_words_for_chips_and_toasts() {
        let words: Vec<String> = Expiry::PRESETS
            .iter()
            .map(|e| format_compact_words(e.duration()))
            .collect();
        assert_eq!(words, ["5 min", "15 min", "1 h", "1 day", "7 days"]);
        assert_eq!(
            format_compact_words(Duration::from_secs(5400)),
            "1 h 30 min"
        );
        assert_eq!(format_compact_words(Duration::from_secs(45)), "45 s");
    }

    fn secs(s: &str) -> u64 {
        s.parse::<Expiry>().map_or(0, Expiry::as_secs)
    }

    #[test]
    fn parses_units_and_combinations() {
        assert_eq!(secs("90s"), 90);
        assert_eq!(secs("15m"), 900);
        assert_eq!(secs("2h"), 7200);
        assert_eq!(secs("1d"), 86_400);
        assert_eq!(secs("7d"), 604_800);
        assert_eq!(secs("1w"), 604_800);
        assert_eq!(secs("1h30m"), 5400);
        assert_eq!(secs("1d2h3m4s"), 93_784);
        assert_eq!(secs(" 15M "), 900);
        assert_eq!(secs("600"), 600);
    }

    #[test]
    fn rejects_out_of_bounds_with_the_limit() {
        let long = "8d".parse::<Expiry>().unwrap_err();
        assert!(long.message().contains("at most 7 days"), "{long}");
        let zero = "0s".parse::<Expiry>().unwrap_err();
        assert!(zero.message().contains("at least 1 second"), "{zero}");
        assert!("7d1s".parse::<Expiry>().is_err());
        assert!("99999999999999999999d".parse::<Expiry>().is_err());
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["", "m", "15", "15x", "1h1h", "h15", "15m3", "-5m", "1.5h"] {
            if bad == "15" {
                continue; // a bare number is seconds
            }
            assert!(bad.parse::<Expiry>().is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn formats_round_trip_and_in_words() {
        for p in Expiry::PRESETS {
            assert_eq!(p.to_string().parse::<Expiry>().ok(), Some(p));
        }
        assert_eq!(Expiry::DEFAULT.to_string(), "15m");
        assert_eq!(format_duration(Duration::from_secs(900)), "15 minutes");
        assert_eq!(
            format_duration(Duration::from_secs(5400)),
            "1 hour 30 minutes"
        );
        assert_eq!(format_duration(Duration::from_secs(86_401)), "1 day");
        assert_eq!(format_duration(Duration::from_secs(1)), "1 second");
    }

    #[test]
    fn describes_a_deadline() {
        let now = time::macros::datetime!(2026-11-23 13:50 UTC);
        let text = Expiry::DEFAULT.describe_from(now);
        assert!(text.starts_with("in 15 minutes, at "), "{text}");
        assert_eq!(format_iso(now), "2026-11-23T13:50:00Z");
    }
}
