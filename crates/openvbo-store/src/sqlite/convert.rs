//! Column representations: timestamps as unix milliseconds, ids as
//! hyphenated lower-case text, booleans as 0/1.

use openvbo_core::store::StoreError;

use super::error::corrupt;
use time::OffsetDateTime;
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
    fn millis_round_trip_exactly() {
        let t = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_000_000).unwrap();
        assert_eq!(from_millis("t", to_millis(t)).unwrap(), t);
        let before_epoch = OffsetDateTime::from_unix_timestamp_nanos(-1_500_000).unwrap();
        assert_eq!(to_millis(before_epoch), -2);
        assert!(from_millis("t", i64::MAX).is_err());
    }
}
