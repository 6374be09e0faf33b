//! Timestamps written and read the way Go's `time.Time.String()` writes them.
//!
//! Tyk puts `time.Now().String()` into every event's `TimeStamp`, for example
//! `2026-11-28 18:36:24.182420098 +0000 UTC`: Go's layout `2006-01-02 15:04:05.999999999 -0700 MST`,
//! whose fraction drops trailing zeros (and the dot when the fraction is zero).

use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in time with the UTC offset and zone name it is written in.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Timestamp {
    /// Seconds since the Unix epoch (UTC).
    unix_secs: i64,
    /// Nanoseconds within the second.
    nanos: u32,
    /// Offset from UTC in seconds, as written.
    offset_secs: i32,
    /// The zone abbreviation as written (`UTC`, `GMT`, `CET`, ...).
    zone: String,
}

/// The text is not a Go time string nor an RFC 3339 time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{value:?} is not a time: expected Go's `2006-01-02 15:04:05.999999999 -0700 MST` or RFC 3339 `2006-01-02T15:04:05Z`"
)]
pub struct TimestampError {
    /// The text that did not parse.
    pub value: String,
}

impl Timestamp {
    /// The current time, in UTC.
    pub fn now() -> Timestamp {
        Timestamp::from_system_time(SystemTime::now())
    }

    /// A [`SystemTime`], in UTC.
    pub fn from_system_time(t: SystemTime) -> Timestamp {
        let (unix_secs, nanos) = match t.duration_since(UNIX_EPOCH) {
            Ok(d) => (d.as_secs() as i64, d.subsec_nanos()),
            Err(e) => {
                let d = e.duration();
                let mut secs = -(d.as_secs() as i64);
                let mut nanos = d.subsec_nanos();
                if nanos > 0 {
                    secs -= 1;
                    nanos = 1_000_000_000 - nanos;
                }
                (secs, nanos)
            }
        };
        Timestamp::from_unix(unix_secs, nanos)
    }

    /// Seconds and nanoseconds since the Unix epoch, in UTC.
    pub fn from_unix(unix_secs: i64, nanos: u32) -> Timestamp {
        Timestamp {
            unix_secs: unix_secs + i64::from(nanos / 1_000_000_000),
            nanos: nanos % 1_000_000_000,
            offset_secs: 0,
            zone: "UTC".to_owned(),
        }
    }

    /// The bytes of the zone abbreviation (for [`crate::Event::estimated_size`]).
    pub(crate) fn zone_len(&self) -> usize {
        self.zone.len()
    }

    /// Seconds since the Unix epoch.
    pub fn unix_secs(&self) -> i64 {
        self.unix_secs
    }

    /// Nanoseconds within the second.
    pub fn nanos(&self) -> u32 {
        self.nanos
    }

    /// Parses Go's `time.Time.String()` form (`2026-11-28 18:36:24.182420098 +0000 UTC`,
    /// with or without a fraction, with any zone name, and with Go's optional ` m=+0.1` suffix).
    pub fn parse_go(s: &str) -> Result<Timestamp, TimestampError> {
        parse_go(s).ok_or_else(|| TimestampError {
            value: s.to_owned(),
        })
    }

    /// Parses an RFC 3339 time (`2026-11-28T18:36:24Z`, `2026-11-28T18:36:24.5+01:00`).
    pub fn parse_rfc3339(s: &str) -> Result<Timestamp, TimestampError> {
        parse_rfc3339(s).ok_or_else(|| TimestampError {
            value: s.to_owned(),
        })
    }

    /// Writes the time as Go's `time.RFC3339` does: `2006-01-02T15:04:05Z07:00`,
    /// whole seconds, `Z` for a zero offset.
    pub fn to_rfc3339(&self) -> String {
        let local = self.unix_secs + i64::from(self.offset_secs);
        let (y, mo, d, h, mi, s) = civil(local);
        let mut out = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}");
        if self.offset_secs == 0 {
            out.push('Z');
        } else {
            let sign = if self.offset_secs < 0 { '-' } else { '+' };
            let off = self.offset_secs.unsigned_abs();
            out.push_str(&format!("{sign}{:02}:{:02}", off / 3600, (off % 3600) / 60));
        }
        out
    }
}

impl fmt::Display for Timestamp {
    /// Go's `time.Time.String()` layout.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let local = self.unix_secs + i64::from(self.offset_secs);
        let (y, mo, d, h, mi, s) = civil(local);
        write!(f, "{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")?;
        if self.nanos != 0 {
            let frac = format!("{:09}", self.nanos);
            write!(f, ".{}", frac.trim_end_matches('0'))?;
        }
        let sign = if self.offset_secs < 0 { '-' } else { '+' };
        let off = self.offset_secs.unsigned_abs();
        write!(
            f,
            " {sign}{:02}{:02} {}",
            off / 3600,
            (off % 3600) / 60,
            self.zone
        )
    }
}

impl FromStr for Timestamp {
    type Err = TimestampError;

    /// Accepts Go's form first, then RFC 3339.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_go(s)
            .or_else(|| parse_rfc3339(s))
            .ok_or_else(|| TimestampError {
                value: s.to_owned(),
            })
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Year, month, day, hour, minute, second of seconds since the epoch.
fn civil(secs: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400) as u32;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d, rem / 3600, (rem % 3600) / 60, rem % 60)
}

/// A cursor over ASCII digits and literals.
struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn digits(&mut self, n: usize) -> Option<u32> {
        let part = self.s.get(self.i..self.i + n)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.i += n;
        Some(part.iter().fold(0, |acc, b| acc * 10 + u32::from(b - b'0')))
    }

    fn lit(&mut self, c: u8) -> Option<()> {
        (self.s.get(self.i) == Some(&c)).then(|| self.i += 1)
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    /// An optional `.` and 1 to 9 digits, as nanoseconds.
    fn fraction(&mut self) -> Option<u32> {
        if self.peek() != Some(b'.') {
            return Some(0);
        }
        self.i += 1;
        let start = self.i;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.i += 1;
        }
        let len = self.i - start;
        if len == 0 || len > 9 {
            return None;
        }
        let mut n = 0u32;
        for b in &self.s[start..self.i] {
            n = n * 10 + u32::from(b - b'0');
        }
        Some(n * 10u32.pow((9 - len) as u32))
    }

    /// `YYYY-MM-DD`, then `sep`, then `hh:mm:ss` and a fraction: seconds since the epoch (as written) and nanos.
    fn date_time(&mut self, sep: &[u8]) -> Option<(i64, u32)> {
        let y = self.digits(4)?;
        self.lit(b'-')?;
        let mo = self.digits(2)?;
        self.lit(b'-')?;
        let d = self.digits(2)?;
        if !sep.contains(&self.peek()?) {
            return None;
        }
        self.i += 1;
        let h = self.digits(2)?;
        self.lit(b':')?;
        let mi = self.digits(2)?;
        self.lit(b':')?;
        let s = self.digits(2)?;
        let nanos = self.fraction()?;
        if !(1..=12).contains(&mo) || d == 0 || d > 31 || h > 23 || mi > 59 || s > 60 {
            return None;
        }
        let days = days_from_civil(i64::from(y), mo, d);
        Some((
            days * 86_400 + i64::from(h * 3600 + mi * 60 + s.min(59)),
            nanos,
        ))
    }
}

fn parse_go(s: &str) -> Option<Timestamp> {
    let mut c = Cursor {
        s: s.as_bytes(),
        i: 0,
    };
    let (local, nanos) = c.date_time(b" ")?;
    c.lit(b' ')?;
    let sign = match c.peek()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    c.i += 1;
    let oh = c.digits(2)?;
    let om = c.digits(2)?;
    let offset_secs = sign * (oh * 3600 + om * 60) as i32;
    c.lit(b' ')?;
    let rest = &s[c.i..];
    // Go appends " m=+1.234" (the monotonic clock reading) to times taken with time.Now().
    let zone = rest.split(" m=").next().unwrap_or(rest);
    let zone_ok = !zone.is_empty()
        && zone
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-');
    if !zone_ok {
        return None;
    }
    Some(Timestamp {
        unix_secs: local - i64::from(offset_secs),
        nanos,
        offset_secs,
        zone: zone.to_owned(),
    })
}

fn parse_rfc3339(s: &str) -> Option<Timestamp> {
    let mut c = Cursor {
        s: s.as_bytes(),
        i: 0,
    };
    let (local, nanos) = c.date_time(b"Tt")?;
    let offset_secs = match c.peek()? {
        b'Z' | b'z' => {
            c.i += 1;
            0
        }
        sign @ (b'+' | b'-') => {
            c.i += 1;
            let oh = c.digits(2)?;
            c.lit(b':')?;
            let om = c.digits(2)?;
            let off = (oh * 3600 + om * 60) as i32;
            if sign == b'-' { -off } else { off }
        }
        _ => return None,
    };
    if c.i != s.len() {
        return None;
    }
    Some(Timestamp {
        unix_secs: local - i64::from(offset_secs),
        nanos,
        offset_secs,
        zone: if offset_secs == 0 {
            "UTC".to_owned()
        } else {
            String::new()
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_go_string_form() {
        // 2026-11-28 18:36:24 UTC
        let t = Timestamp::from_unix(1_795_890_984, 182_420_098);
        assert_eq!(t.to_string(), "2026-11-28 18:36:24.182420098 +0000 UTC");
        // Go drops trailing zeros of the fraction, and the dot when it is zero.
        assert_eq!(
            Timestamp::from_unix(1_795_890_984, 500_000_000).to_string(),
            "2026-11-28 18:36:24.5 +0000 UTC"
        );
        assert_eq!(
            Timestamp::from_unix(0, 0).to_string(),
            "1970-01-01 00:00:00 +0000 UTC"
        );
    }

    #[test]
    fn parses_go_string_form_round_trip() {
        for s in [
            "2026-11-28 18:36:24.182420098 +0000 UTC",
            "2014-11-27 12:52:05.944549825 +0000 GMT",
            "2024-02-29 23:59:59 -0700 MST",
            "1999-12-31 00:00:00.1 +0530 IST",
        ] {
            assert_eq!(Timestamp::parse_go(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn go_form_with_monotonic_suffix_parses() {
        let t = Timestamp::parse_go("2026-11-28 18:36:24.1 +0000 UTC m=+0.001").unwrap();
        assert_eq!(t.to_string(), "2026-11-28 18:36:24.1 +0000 UTC");
    }

    #[test]
    fn rfc3339_like_go() {
        let t = Timestamp::parse_go("2026-11-28 18:36:24.182420098 +0000 UTC").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-28T18:36:24Z");
        let t = Timestamp::parse_go("2024-02-29 23:59:59 -0700 MST").unwrap();
        assert_eq!(t.to_rfc3339(), "2024-02-29T23:59:59-07:00");
        assert_eq!(t.unix_secs(), 1_709_276_399);
    }

    #[test]
    fn parses_rfc3339() {
        let t = Timestamp::parse_rfc3339("2026-11-28T18:36:24.5+01:00").unwrap();
        assert_eq!(t.unix_secs(), 1_795_890_984 - 3600);
        assert_eq!(t.nanos(), 500_000_000);
        assert_eq!(t.to_rfc3339(), "2026-11-28T18:36:24+01:00");
    }

    #[test]
    fn refuses_other_text() {
        for s in [
            "",
            "yesterday",
            "2026-13-01 00:00:00 +0000 UTC",
            "2026-11-28 18:36:24 UTC",
            "2026-11-28 18:36:24.1234567891 +0000 UTC",
            "2026-11-28T18:36:24",
        ] {
            assert!(s.parse::<Timestamp>().is_err(), "{s:?} parsed");
        }
    }

    #[test]
    fn civil_round_trips_over_centuries() {
        for days in (-800_000i64..800_000).step_by(997) {
            let (y, m, d, ..) = civil(days * 86_400);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
