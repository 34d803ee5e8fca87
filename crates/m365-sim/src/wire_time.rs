use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::OffsetDateTime;

/// Entra's `timestamp` field: `2026-01-09 02:02:12Z` (a space, not `T`).
pub(crate) fn aad_timestamp(at: OffsetDateTime) -> String {
    at.format(format_description!(
        "[year]-[month]-[day] [hour]:[minute]:[second]Z"
    ))
    .unwrap_or_default()
}

/// Graph's `innerError.date`: `2026-01-09T02:02:12` (no zone suffix).
pub(crate) fn graph_error_date(at: OffsetDateTime) -> String {
    at.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]"
    ))
    .unwrap_or_default()
}

pub(crate) fn rfc3339(at: OffsetDateTime) -> String {
    at.replace_nanosecond(0)
        .unwrap_or(at)
        .format(&Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn formats_match_microsoft() {
        let at = datetime!(2026-01-09 02:02:12.345 UTC);
        assert_eq!(aad_timestamp(at), "2026-01-09 02:02:12Z");
        assert_eq!(graph_error_date(at), "2026-01-09T02:02:12");
        assert_eq!(rfc3339(at), "2026-01-09T02:02:12Z");
    }
}
