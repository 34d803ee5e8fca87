//! `RESTExploreOptions`: what an explore asks for.

use time::{Date, Duration, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use crate::{CoreError, ValidationError};

/// The restore session types of v6 (`Vex`, `Veod`, `Vesp`, `Vet`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RestoreKind {
    Exchange,
    OneDrive,
    SharePoint,
    Teams,
}

impl RestoreKind {
    pub fn as_wire(self) -> &'static str {
        match self {
            RestoreKind::Exchange => "Vex",
            RestoreKind::OneDrive => "Veod",
            RestoreKind::SharePoint => "Vesp",
            RestoreKind::Teams => "Vet",
        }
    }

    /// Any case, as ASP.NET binds enums.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "vex" => Ok(RestoreKind::Exchange),
            "veod" => Ok(RestoreKind::OneDrive),
            "vesp" => Ok(RestoreKind::SharePoint),
            "vet" => Ok(RestoreKind::Teams),
            _ => Err(ValidationError::field(
                "type",
                format!(
                    "unknown restore session type '{}': use Vex, Veod, Vesp or Vet",
                    crate::ids::truncate_for_message(s)
                ),
            )),
        }
    }
}

/// A validated explore request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExploreOptions {
    pub kind: RestoreKind,
    /// Data backed up at or before this instant (already rounded up to the end of the precision
    /// the client gave); `None` means the latest point.
    pub up_to: Option<OffsetDateTime>,
    pub show_deleted: bool,
    pub show_all_versions: bool,
}

impl ExploreOptions {
    /// From the wire values; `type` defaults to `Vex` and `dateTime` to "latest".
    pub fn from_wire(
        kind: Option<&str>,
        date_time: Option<&str>,
        show_deleted: Option<bool>,
        show_all_versions: Option<bool>,
    ) -> Result<Self, CoreError> {
        let kind = kind
            .filter(|k| !k.trim().is_empty())
            .map(RestoreKind::parse)
            .transpose()?;
        let up_to = match date_time.map(str::trim).filter(|d| !d.is_empty()) {
            None => None,
            Some(text) => Some(parse_lenient_time(text).ok_or_else(|| {
                ValidationError::field(
                    "dateTime",
                    format!(
                        "'{}' is not a date and time; send e.g. 2026-03-03T10:15:30Z or 2026.03.03 10:15",
                        crate::ids::truncate_for_message(text)
                    ),
                )
            })?),
        };
        Ok(Self {
            kind: kind.unwrap_or(RestoreKind::Exchange),
            up_to,
            show_deleted: show_deleted.unwrap_or(false),
            show_all_versions: show_all_versions.unwrap_or(false),
        })
    }
}

/// Parses the dates real clients send and returns the *last* instant they can mean: a time
/// given to the minute covers that whole minute (a client's "Explore last backup" sends the
/// last backup time truncated to the minute and must still see that backup).
///
/// Accepted: RFC 3339 (`2019-04-12T10:54:40.2794046Z`, offsets), the same without a zone
/// (Python's `isoformat()`; read as UTC), `yyyy-MM-dd HH:mm:ss.SSS`, `yyyy.MM.dd HH:mm:ss`,
/// `yyyy.MM.dd HH:mm`, and a bare date (its whole day).
pub fn parse_lenient_time(text: &str) -> Option<OffsetDateTime> {
    let text = text.trim();
    let (date_part, rest) = match text.find(['T', 't', ' ']) {
        Some(i) => (&text[..i], text[i + 1..].trim()),
        None => (text, ""),
    };
    let date = parse_date(date_part)?;
    if rest.is_empty() {
        let end = PrimitiveDateTime::new(date, Time::MIDNIGHT).assume_utc() + Duration::days(1);
        return Some(end - Duration::nanoseconds(1));
    }
    let (clock, offset) = split_zone(rest)?;
    let (time, precision) = parse_clock(clock)?;
    let start = PrimitiveDateTime::new(date, time)
        .assume_offset(offset)
        .to_offset(UtcOffset::UTC);
    Some(start + precision - Duration::nanoseconds(1))
}

fn parse_date(s: &str) -> Option<Date> {
    let mut parts = s.split(['-', '.', '/']);
    let year: i32 = parts.next()?.parse().ok()?;
    let month: u8 = parts.next()?.parse().ok()?;
    let day: u8 = parts.next()?.parse().ok()?;
    if parts.next().is_some() || year < 1000 {
        return None;
    }
    Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
}

/// Splits `10:15:30.123+02:00` / `10:15Z` into the clock and its offset (UTC when absent).
fn split_zone(s: &str) -> Option<(&str, UtcOffset)> {
    if let Some(clock) = s.strip_suffix(['Z', 'z']) {
        return Some((clock.trim(), UtcOffset::UTC));
    }
    // A sign after the clock's first character starts an offset.
    match s
        .char_indices()
        .skip(1)
        .find(|(_, c)| *c == '+' || *c == '-')
    {
        None => Some((s, UtcOffset::UTC)),
        Some((i, sign)) => {
            let zone = &s[i + 1..];
            let (h, m) = zone
                .split_once(':')
                .unwrap_or((zone.get(..2)?, zone.get(2..).unwrap_or("0")));
            let hours: i8 = h.parse().ok()?;
            let minutes: i8 = if m.is_empty() { 0 } else { m.parse().ok()? };
            let (hours, minutes) = if sign == '-' {
                (-hours, -minutes)
            } else {
                (hours, minutes)
            };
            Some((s[..i].trim(), UtcOffset::from_hms(hours, minutes, 0).ok()?))
        }
    }
}

/// A clock reading and the width of the precision it was given in.
fn parse_clock(s: &str) -> Option<(Time, Duration)> {
    let (main, fraction) = match s.split_once('.') {
        Some((main, fraction)) => (main, Some(fraction)),
        None => (s, None),
    };
    let mut parts = main.split(':');
    let hour: u8 = parts.next()?.parse().ok()?;
    let minute: u8 = parts.next()?.parse().ok()?;
    let (second, has_seconds): (u8, bool) = match parts.next() {
        Some(p) => (p.parse().ok()?, true),
        None => (0, false),
    };
    if parts.next().is_some() {
        return None;
    }
    let (nanos, precision) = match fraction {
        Some(digits)
            if has_seconds
                && !digits.is_empty()
                && digits.len() <= 9
                && digits.bytes().all(|b| b.is_ascii_digit()) =>
        {
            let scale = 10u32.pow(9 - digits.len() as u32);
            let value: u32 = digits.parse().ok()?;
            (value * scale, Duration::nanoseconds(i64::from(scale)))
        }
        Some(_) => return None,
        None if has_seconds => (0, Duration::SECOND),
        None => (0, Duration::MINUTE),
    };
    Some((
        Time::from_hms_nano(hour, minute, second, nanos).ok()?,
        precision,
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use time::macros::datetime;

    #[test]
    fn client_formats_parse_to_the_end_of_their_precision() {
        let cases = [
            (
                "2019-04-12T10:54:40.2794046Z",
                datetime!(2019-04-12 10:54:40.2794046999 UTC),
            ),
            (
                "2019-04-12T10:54:40Z",
                datetime!(2019-04-12 10:54:40.999999999 UTC),
            ),
            (
                "2019-04-12T12:54:40+02:00",
                datetime!(2019-04-12 10:54:40.999999999 UTC),
            ),
            (
                "2019-04-12T10:54:40.123456",
                datetime!(2019-04-12 10:54:40.123456999 UTC),
            ),
            (
                "2019-04-12 10:54:40.279",
                datetime!(2019-04-12 10:54:40.279999999 UTC),
            ),
            (
                "2019.04.12 10:54:40",
                datetime!(2019-04-12 10:54:40.999999999 UTC),
            ),
            (
                "2021.04.27 10:49",
                datetime!(2021-04-27 10:49:59.999999999 UTC),
            ),
            ("2021-04-27", datetime!(2021-04-27 23:59:59.999999999 UTC)),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_lenient_time(text), Some(expected), "{text}");
        }
        for bad in [
            "",
            "yesterday",
            "2021-13-01",
            "2021-04-27 25:00",
            "2021-04-27T10:49:00.x",
            "12:00",
        ] {
            assert_eq!(parse_lenient_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn options_default_to_exchange_and_latest_and_name_bad_fields() {
        let o = ExploreOptions::from_wire(None, None, None, None).unwrap();
        assert_eq!(
            (o.kind, o.up_to, o.show_deleted),
            (RestoreKind::Exchange, None, false)
        );
        assert_eq!(
            ExploreOptions::from_wire(Some("veod"), None, None, None)
                .unwrap()
                .kind,
            RestoreKind::OneDrive
        );
        let err = ExploreOptions::from_wire(Some("Vxx"), None, None, None).unwrap_err();
        assert!(
            err.to_string()
                .contains("unknown restore session type 'Vxx'"),
            "{err}"
        );
        let err = ExploreOptions::from_wire(None, Some("soon"), None, None).unwrap_err();
        assert!(
            err.to_string().contains("'soon' is not a date and time"),
            "{err}"
        );
    }
}
