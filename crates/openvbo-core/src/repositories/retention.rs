//! The retention fields of `RESTBackupRepositoryFromClient`: parsed case-insensitively,
//! checked, and defaulted the way VB365 does (`Add-VBORepository`: SnapshotBased is
//! required to be said, Years3, clean-up Daily at 00:00 Everyday; monthly 18:00, First
//! Monday).

use time::macros::time;
use time::Time;

use crate::backup::{
    DailyType, DayOfWeek, MonthlyDayNumber, Retention, RetentionFrequencyType, RetentionPeriodType,
    RetentionType, YearlyRetentionPeriod,
};
use crate::error::ValidationError;

/// The longest retention VB365 offers in days or months (its UI caps both at 999).
pub const MAX_PERIOD: i32 = 999;

/// The retention part of the request body, as sent.
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetentionInput {
    pub retention_type: Option<String>,
    pub retention_period_type: Option<String>,
    pub daily_retention_period: Option<i32>,
    pub monthly_retention_period: Option<i32>,
    pub yearly_retention_period: Option<String>,
    pub retention_frequency_type: Option<String>,
    pub daily_time: Option<String>,
    pub daily_type: Option<String>,
    pub monthly_time: Option<String>,
    pub monthly_daynumber: Option<String>,
    pub monthly_dayofweek: Option<String>,
}

fn parse_enum<T: Copy>(
    field: &str,
    value: Option<&str>,
    parse: fn(&str) -> Option<T>,
    all: &[T],
    name: fn(T) -> &'static str,
) -> Result<Option<T>, ValidationError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => parse(v).map(Some).ok_or_else(|| {
            let allowed: Vec<&str> = all.iter().map(|a| name(*a)).collect();
            ValidationError::field(
                field,
                format!(
                    "{field} '{}' is not one of {}",
                    crate::ids::truncate_for_message(v),
                    allowed.join(", ")
                ),
            )
        }),
    }
}

macro_rules! enum_field {
    ($ty:ident, $field:literal, $value:expr) => {
        parse_enum($field, $value, $ty::parse, $ty::ALL, $ty::as_str)
    };
}

/// `"HH:mm:ss"`, and `"HH:mm"` as clients also send.
pub fn parse_time(field: &str, value: &str) -> Result<Time, ValidationError> {
    let bad = || {
        ValidationError::field(
            field,
            format!(
                "{field} '{}' is not a time of day (HH:mm:ss)",
                crate::ids::truncate_for_message(value)
            ),
        )
    };
    let parts: Vec<&str> = value.trim().split(':').collect();
    if parts.len() < 2 || parts.len() > 3 {
        return Err(bad());
    }
    let num = |s: &str, max: u8| -> Result<u8, ValidationError> {
        if s.is_empty() || s.len() > 2 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        s.parse::<u8>().ok().filter(|n| *n <= max).ok_or_else(bad)
    };
    let (Some(h), Some(m)) = (parts.first(), parts.get(1)) else {
        return Err(bad());
    };
    let h = num(h, 23)?;
    let m = num(m, 59)?;
    // Seconds may carry a fraction ("08:00:00.000"); it is dropped.
    let s = match parts.get(2) {
        Some(s) => num(s.split('.').next().unwrap_or(""), 59)?,
        None => 0,
    };
    Time::from_hms(h, m, s).map_err(|_| bad())
}

/// `"HH:mm:ss"` as VB365 writes it.
pub fn format_time(t: Time) -> String {
    format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
}

fn period(field: &str, value: Option<i32>, unit: &str) -> Result<i32, ValidationError> {
    let v = value.ok_or_else(|| {
        ValidationError::field(
            field,
            format!("{field} is required when retentionPeriodType is {unit}"),
        )
    })?;
    if !(1..=MAX_PERIOD).contains(&v) {
        return Err(ValidationError::field(
            field,
            format!("{field} must be between 1 and {MAX_PERIOD}, not {v}"),
        ));
    }
    Ok(v)
}

impl RetentionInput {
    /// The retention of a new repository.
    pub fn to_new(&self) -> Result<Retention, ValidationError> {
        let retention_type = enum_field!(
            RetentionType,
            "retentionType",
            self.retention_type.as_deref()
        )?
        .ok_or_else(|| {
            ValidationError::field(
                "retentionType",
                "retentionType is required: ItemLevel or SnapshotBased",
            )
        })?;
        self.merged(&Retention {
            retention_type,
            period_type: RetentionPeriodType::Yearly,
            daily_period: None,
            monthly_period: None,
            yearly_period: Some(YearlyRetentionPeriod::Years3),
            frequency_type: RetentionFrequencyType::Daily,
            daily_time: time!(00:00:00),
            daily_type: DailyType::Everyday,
            monthly_time: time!(18:00:00),
            monthly_day_number: MonthlyDayNumber::First,
            monthly_day_of_week: DayOfWeek::Monday,
        })
    }

    /// `current` changed by what this input says; `retentionType` may not change.
    pub fn merged(&self, current: &Retention) -> Result<Retention, ValidationError> {
        if let Some(t) = enum_field!(
            RetentionType,
            "retentionType",
            self.retention_type.as_deref()
        )? {
            if t != current.retention_type {
                return Err(ValidationError::field(
                    "retentionType",
                    format!(
                        "the retention type of a repository cannot change after it is created (it is {})",
                        current.retention_type
                    ),
                ));
            }
        }
        let period_type = enum_field!(
            RetentionPeriodType,
            "retentionPeriodType",
            self.retention_period_type.as_deref()
        )?
        .unwrap_or(current.period_type);
        let mut r = current.clone();
        r.period_type = period_type;
        // Only the field that applies is kept; the others are ignored, as VB365 does.
        r.daily_period = None;
        r.monthly_period = None;
        r.yearly_period = None;
        match period_type {
            RetentionPeriodType::Daily => {
                let v = self.daily_retention_period.or(current.daily_period);
                r.daily_period = Some(period("dailyRetentionPeriod", v, "Daily")?);
            }
            RetentionPeriodType::Monthly => {
                let v = self.monthly_retention_period.or(current.monthly_period);
                r.monthly_period = Some(period("monthlyRetentionPeriod", v, "Monthly")?);
            }
            RetentionPeriodType::Yearly => {
                let v = enum_field!(
                    YearlyRetentionPeriod,
                    "yearlyRetentionPeriod",
                    self.yearly_retention_period.as_deref()
                )?;
                r.yearly_period = Some(
                    v.or(current.yearly_period)
                        .unwrap_or(YearlyRetentionPeriod::Years3),
                );
            }
        }
        if let Some(f) = enum_field!(
            RetentionFrequencyType,
            "retentionFrequencyType",
            self.retention_frequency_type.as_deref()
        )? {
            r.frequency_type = f;
        }
        if let Some(t) = self.daily_time.as_deref().filter(|t| !t.trim().is_empty()) {
            r.daily_time = parse_time("dailyTime", t)?;
        }
        if let Some(t) = enum_field!(DailyType, "dailyType", self.daily_type.as_deref())? {
            r.daily_type = t;
        }
        if let Some(t) = self
            .monthly_time
            .as_deref()
            .filter(|t| !t.trim().is_empty())
        {
            r.monthly_time = parse_time("monthlyTime", t)?;
        }
        if let Some(n) = enum_field!(
            MonthlyDayNumber,
            "monthlyDaynumber",
            self.monthly_daynumber.as_deref()
        )? {
            r.monthly_day_number = n;
        }
        if let Some(d) = enum_field!(
            DayOfWeek,
            "monthlyDayofweek",
            self.monthly_dayofweek.as_deref()
        )? {
            r.monthly_day_of_week = d;
        }
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn input(json: &str) -> RetentionInput {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn defaults_are_vb365s() {
        let r = input(r#"{"retentionType":"snapshotbased"}"#)
            .to_new()
            .unwrap();
        assert_eq!(r.retention_type, RetentionType::SnapshotBased);
        assert_eq!(r.period_type, RetentionPeriodType::Yearly);
        assert_eq!(r.yearly_period, Some(YearlyRetentionPeriod::Years3));
        assert_eq!(r.frequency_type, RetentionFrequencyType::Daily);
        assert_eq!(format_time(r.daily_time), "00:00:00");
        assert_eq!(r.daily_type, DailyType::Everyday);
        assert_eq!(format_time(r.monthly_time), "18:00:00");
        assert_eq!(r.monthly_day_number, MonthlyDayNumber::First);
        assert_eq!(r.monthly_day_of_week, DayOfWeek::Monday);
    }

    #[test]
    fn the_period_that_applies_is_required_and_bounded() {
        let e = input(r#"{"retentionType":"ItemLevel","retentionPeriodType":"Daily"}"#)
            .to_new()
            .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("dailyRetentionPeriod"));
        let e = input(r#"{"retentionType":"ItemLevel","retentionPeriodType":"Monthly","monthlyRetentionPeriod":0}"#)
            .to_new()
            .unwrap_err();
        assert!(e.message.contains("between 1 and 999"), "{}", e.message);
        let r = input(r#"{"retentionType":"ItemLevel","retentionPeriodType":"monthly","monthlyRetentionPeriod":3,"dailyRetentionPeriod":7,"dailyTime":"12:00"}"#)
            .to_new()
            .unwrap();
        assert_eq!(
            (r.monthly_period, r.daily_period, r.yearly_period),
            (Some(3), None, None)
        );
        assert_eq!(format_time(r.daily_time), "12:00:00");
    }

    #[test]
    fn bad_values_name_their_field() {
        assert!(input("{}")
            .to_new()
            .unwrap_err()
            .message
            .contains("retentionType is required"));
        let e = input(r#"{"retentionType":"Forever"}"#)
            .to_new()
            .unwrap_err();
        assert!(
            e.message.contains("ItemLevel, SnapshotBased"),
            "{}",
            e.message
        );
        for t in ["24:00:00", "12", "1:2:3:4", "ab:cd", "12:60", "-1:00"] {
            let e = input(&format!(
                r#"{{"retentionType":"ItemLevel","dailyTime":"{t}"}}"#
            ))
            .to_new()
            .unwrap_err();
            assert_eq!(e.field.as_deref(), Some("dailyTime"), "{t}");
        }
    }

    #[test]
    fn the_type_cannot_change_but_the_rest_can() {
        let r = input(r#"{"retentionType":"ItemLevel"}"#).to_new().unwrap();
        let e = input(r#"{"retentionType":"SnapshotBased"}"#)
            .merged(&r)
            .unwrap_err();
        assert!(e.message.contains("cannot change"), "{}", e.message);
        let changed = input(r#"{"retentionType":"itemlevel","retentionPeriodType":"Daily","dailyRetentionPeriod":30,"dailyType":"weekends"}"#)
            .merged(&r)
            .unwrap();
        assert_eq!(changed.daily_period, Some(30));
        assert_eq!(changed.daily_type, DailyType::Weekends);
        assert_eq!(changed.retention_type, RetentionType::ItemLevel);
    }
}
