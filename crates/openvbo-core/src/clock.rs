//! Wall-clock time in one place, so timestamps have one representation.

use time::OffsetDateTime;

/// Now, truncated to whole milliseconds: what every store keeps exactly.
pub fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(now.millisecond() as u32 * 1_000_000)
        .unwrap_or(now)
}
