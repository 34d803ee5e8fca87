//! MAPI times are FILETIMEs: 100-nanosecond intervals since 1601-01-01 UTC.

/// Seconds between 1601-01-01 and 1970-01-01.
const EPOCH_DIFFERENCE_SECS: i64 = 11_644_473_600;

/// The FILETIME of a Unix timestamp; times before 1601 clamp to zero.
pub(crate) fn filetime_from_unix(secs: i64) -> u64 {
    let since_1601 = secs.saturating_add(EPOCH_DIFFERENCE_SECS).max(0);
    (since_1601 as u64).saturating_mul(10_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_epoch_is_the_documented_filetime() {
        assert_eq!(filetime_from_unix(0), 116_444_736_000_000_000);
        assert_eq!(filetime_from_unix(1), 116_444_736_010_000_000);
        assert_eq!(filetime_from_unix(i64::MIN), 0);
    }
}
