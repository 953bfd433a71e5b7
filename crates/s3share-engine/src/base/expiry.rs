//! How long a link lives: parsing ("15m", "1h30m", "7d"), presets and bounds (its wording is
//! in `wording`).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use time::OffsetDateTime;

use super::error::Error;
use super::wording::{describe_deadline, format_compact, format_duration};
use s3share_core::limits::{MAX_EXPIRES_SECS, MIN_EXPIRES_SECS};

/// A presigned link's requested lifetime, always within SigV4's bounds of 1 s ..= 7 days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Expiry(Duration);

impl Expiry {
    /// SigV4 query signatures are valid for at least one second.
    pub const MIN: Duration = Duration::from_secs(MIN_EXPIRES_SECS);
    /// ... and at most seven days (X-Amz-Expires = 604800).
    pub const MAX: Duration = Duration::from_secs(MAX_EXPIRES_SECS);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_round_trip_through_their_text() {
        for p in Expiry::PRESETS {
            assert_eq!(p.to_string().parse::<Expiry>().ok(), Some(p));
        }
        assert_eq!(Expiry::DEFAULT.to_string(), "15m");
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

    proptest::proptest! {
        #[test]
        fn parsing_never_panics_and_keeps_the_bounds(text in "\\PC{0,24}") {
            if let Ok(e) = text.parse::<Expiry>() {
                proptest::prop_assert!(e.duration() >= Expiry::MIN && e.duration() <= Expiry::MAX);
            }
        }

        #[test]
        fn every_valid_lifetime_round_trips_through_its_text(secs in 1u64..=604_800) {
            let e = Expiry::new(Duration::from_secs(secs)).expect("in bounds");
            proptest::prop_assert_eq!(e.to_string().parse::<Expiry>().ok(), Some(e));
        }

        #[test]
        fn unit_combinations_add_up(d in 0u64..7, h in 0u64..24, m in 0u64..60, s in 0u64..60) {
            let text = format!("{d}d{h}h{m}m{s}s");
            let total = d * 86_400 + h * 3600 + m * 60 + s;
            let parsed = text.parse::<Expiry>().ok().map(Expiry::as_secs);
            proptest::prop_assert_eq!(parsed, (total >= 1).then_some(total));
        }
    }
}
