//! Column representations: timestamps as unix milliseconds, ids as
//! hyphenated lower-case text, booleans as 0/1.

use openvbo_core::store::StoreError;

use super::error::corrupt;
use time::{OffsetDateTime, Time};
use uuid::Uuid;

/// Sub-millisecond precision is dropped; the core never produces any.
pub(crate) fn to_millis(t: OffsetDateTime) -> i64 {
    let millis = t.unix_timestamp_nanos().div_euclid(1_000_000);
    // ±2^63 ms is ±292 million years, beyond what `time` can represent.
    i64::try_from(millis).unwrap_or(if millis < 0 { i64::MIN } else { i64::MAX })
}

pub(crate) fn from_millis(column: &str, millis: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000).map_err(|_| {
        corrupt(format!(
            "{column} holds {millis}, which is not a representable time"
        ))
    })
}

pub(crate) fn uuid_text(id: Uuid) -> String {
    id.hyphenated().to_string()
}

pub(crate) fn parse_uuid(column: &str, text: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(text).map_err(|_| {
        corrupt(format!(
            "{column} holds '{}', which is not a UUID",
            clip(text)
        ))
    })
}

pub(crate) fn to_opt_millis(t: Option<OffsetDateTime>) -> Option<i64> {
    t.map(to_millis)
}

pub(crate) fn from_opt_millis(
    column: &str,
    millis: Option<i64>,
) -> Result<Option<OffsetDateTime>, StoreError> {
    millis.map(|m| from_millis(column, m)).transpose()
}

/// A time of day as seconds since midnight (sub-second precision dropped).
pub(crate) fn to_day_seconds(t: Time) -> i64 {
    i64::from(t.hour()) * 3600 + i64::from(t.minute()) * 60 + i64::from(t.second())
}

pub(crate) fn from_day_seconds(column: &str, seconds: i64) -> Result<Time, StoreError> {
    let bad = || {
        corrupt(format!(
            "{column} holds {seconds}, which is not a time of day"
        ))
    };
    if !(0..86_400).contains(&seconds) {
        return Err(bad());
    }
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    Time::from_hms(
        u8::try_from(h).map_err(|_| bad())?,
        u8::try_from(m).map_err(|_| bad())?,
        u8::try_from(s).map_err(|_| bad())?,
    )
    .map_err(|_| bad())
}

/// A typed id from its text column.
pub(crate) fn parse_id<T: From<Uuid>>(column: &str, text: &str) -> Result<T, StoreError> {
    parse_uuid(column, text).map(T::from)
}

pub(crate) fn parse_opt_id<T: From<Uuid>>(
    column: &str,
    text: Option<&str>,
) -> Result<Option<T>, StoreError> {
    text.map(|t| parse_id(column, t)).transpose()
}

/// An enumeration stored by name.
pub(crate) fn parse_enum<T>(
    column: &str,
    text: &str,
    parse: fn(&str) -> Option<T>,
) -> Result<T, StoreError> {
    parse(text).ok_or_else(|| {
        corrupt(format!(
            "{column} holds '{}', which is not a known value",
            clip(text)
        ))
    })
}

pub(crate) fn parse_opt_enum<T>(
    column: &str,
    text: Option<&str>,
    parse: fn(&str) -> Option<T>,
) -> Result<Option<T>, StoreError> {
    text.map(|t| parse_enum(column, t, parse)).transpose()
}

/// Counts and offsets are u64 in the API and i64 in SQLite.
pub(crate) fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub(crate) fn to_u64(column: &str, n: i64) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|_| corrupt(format!("{column} is {n}")))
}

/// Corrupt values are echoed for diagnosis, but not at any length.
pub(crate) fn clip(text: &str) -> String {
    const MAX: usize = 64;
    if text.chars().count() <= MAX {
        text.to_owned()
    } else {
        let mut out: String = text.chars().take(MAX).collect();
        out.push('…');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_of_day_round_trip_and_garbage_is_corrupt() {
        let t = Time::from_hms(23, 59, 58).unwrap();
        assert_eq!(to_day_seconds(t), 86_398);
        assert_eq!(from_day_seconds("t", 86_398).unwrap(), t);
        assert!(from_day_seconds("t", 86_400).is_err());
        assert!(from_day_seconds("t", -1).is_err());
    }

    #[test]
    fn millis_round_trip_exactly() {
        let t = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_000_000).unwrap();
        assert_eq!(from_millis("t", to_millis(t)).unwrap(), t);
        let before_epoch = OffsetDateTime::from_unix_timestamp_nanos(-1_500_000).unwrap();
        assert_eq!(to_millis(before_epoch), -2);
        assert!(from_millis("t", i64::MAX).is_err());
    }
}
