//! Times as Docker writes them: Go's RFC 3339 with nanoseconds, in UTC, trailing zeros trimmed.

use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

/// A point in time with nanosecond precision, shown as Go's `time.RFC3339Nano` in UTC
/// (`2026-11-22T21:39:40.788614422Z`), which is how Docker dates images, logs and states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    /// Seconds since the Unix epoch.
    seconds: i64,
    /// Nanoseconds within the second, below 1e9.
    nanos: u32,
}

/// A string that is not an RFC 3339 UTC time.
#[derive(Debug, thiserror::Error)]
#[error("not an RFC 3339 UTC time: {0:?}")]
pub struct TimestampError(String);

impl Timestamp {
    /// The current time.
    pub fn now() -> Timestamp {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(since) => Timestamp {
                seconds: i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
                nanos: since.subsec_nanos(),
            },
            Err(_) => Timestamp::UNIX_EPOCH,
        }
    }

    /// 1970-01-01T00:00:00Z.
    pub const UNIX_EPOCH: Timestamp = Timestamp {
        seconds: 0,
        nanos: 0,
    };

    /// The time `seconds` and `nanos` (below 1e9; more is clamped) after the Unix epoch.
    pub fn from_unix(seconds: i64, nanos: u32) -> Timestamp {
        Timestamp {
            seconds,
            nanos: nanos.min(999_999_999),
        }
    }

    /// Seconds since the Unix epoch.
    pub fn unix_seconds(&self) -> i64 {
        self.seconds
    }

    /// Nanoseconds since the Unix epoch.
    pub fn unix_nanos(&self) -> i128 {
        i128::from(self.seconds) * 1_000_000_000 + i128::from(self.nanos)
    }

    /// This time without its fraction of a second, as Go's `time.RFC3339` shows times (how
    /// Docker dates volumes).
    pub fn whole_seconds(&self) -> Timestamp {
        Timestamp {
            seconds: self.seconds,
            nanos: 0,
        }
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day counted from 1970-01-01 (the inverse of [`days_from_civil`]).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.seconds.div_euclid(86_400);
        let second_of_day = self.seconds.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
            second_of_day / 3600,
            second_of_day / 60 % 60,
            second_of_day % 60
        )?;
        if self.nanos != 0 {
            let fraction = format!("{:09}", self.nanos);
            write!(f, ".{}", fraction.trim_end_matches('0'))?;
        }
        f.write_str("Z")
    }
}

impl FromStr for Timestamp {
    type Err = TimestampError;

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction]Z` (UTC only, as Docker writes its times).
    fn from_str(text: &str) -> Result<Timestamp, TimestampError> {
        let error = || TimestampError(text.to_owned());
        let body = text.strip_suffix('Z').ok_or_else(error)?;
        let (date, time) = body.split_once('T').ok_or_else(error)?;
        let (clock, fraction) = match time.split_once('.') {
            Some((clock, fraction)) => (clock, Some(fraction)),
            None => (time, None),
        };
        // Fixed widths, as RFC 3339 (and Go) require: a four-digit year keeps the arithmetic
        // below far from overflowing.
        let numbers = |part: &str, widths: [usize; 3]| -> Result<Vec<i64>, TimestampError> {
            let fields: Vec<&str> = part.split(['-', ':']).collect();
            if fields.len() != widths.len() {
                return Err(error());
            }
            fields
                .iter()
                .zip(widths)
                .map(|(field, width)| {
                    if field.len() != width || !field.bytes().all(|b| b.is_ascii_digit()) {
                        Err(error())
                    } else {
                        field.parse().map_err(|_| error())
                    }
                })
                .collect()
        };
        let date = numbers(date, [4, 2, 2])?;
        let clock = numbers(clock, [2, 2, 2])?;
        let (year, month, day) = (date[0], date[1], date[2]);
        let (hour, minute, second) = (clock[0], clock[1], clock[2]);
        if !(1..=12).contains(&month)
            || !(1..=31).contains(&day)
            || hour > 23
            || minute > 59
            || second > 60
        {
            return Err(error());
        }
        let nanos = match fraction {
            None => 0,
            Some(digits)
                if !digits.is_empty()
                    && digits.len() <= 9
                    && digits.bytes().all(|b| b.is_ascii_digit()) =>
            {
                format!("{digits:0<9}").parse().map_err(|_| error())?
            }
            Some(_) => return Err(error()),
        };
        Ok(Timestamp {
            seconds: days_from_civil(year, month, day) * 86_400
                + hour * 3600
                + minute * 60
                + second,
            nanos,
        })
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::Timestamp;

    #[test]
    fn docker_created_time_round_trips_with_its_nanoseconds() {
        let text = "2026-11-22T21:39:40.788614422Z";
        let parsed: Timestamp = text.parse().expect("a Docker time parses");
        assert_eq!(parsed.to_string(), text);
    }

    #[test]
    fn trailing_zeros_of_the_fraction_are_trimmed_as_go_does() {
        let parsed: Timestamp = "2000-02-29T00:00:00.120000000Z".parse().expect("parses");
        assert_eq!(parsed.to_string(), "2000-02-29T00:00:00.12Z");
        let whole: Timestamp = "1970-01-01T00:00:00.000Z".parse().expect("parses");
        assert_eq!(whole.to_string(), "1970-01-01T00:00:00Z");
        assert_eq!(whole, Timestamp::UNIX_EPOCH);
    }

    #[test]
    fn times_with_an_offset_or_garbage_are_refused() {
        for bad in [
            "2026-11-22T21:39:40+01:00",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-01-01T00:00:00.Z",
        ] {
            assert!(bad.parse::<Timestamp>().is_err(), "{bad} parsed");
        }
    }
}
