//! `RESTJobSchedulePolicy` ⇄ [`Schedule`]: the v6 document a job carries,
//! validated into the rules the scheduler evaluates, and written back in a
//! normalised form (every property present, as VB365 answers it).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use time::macros::format_description;
use time::{Time, Weekday};

use crate::error::ValidationError;
use crate::schedule::{DailyDays, Every, Retry, Schedule, Trigger, WeekWindow, WEEK_SLOTS};

/// The policy as a request carries it: every property optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SchedulePolicyInput {
    pub schedule_enabled: Option<bool>,
    pub backup_window_enabled: Option<bool>,
    pub backup_window_settings: Option<WindowInput>,
    pub periodically_window_settings: Option<WindowInput>,
    pub periodically_offset_minutes: Option<i64>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub periodically_every: Option<String>,
    pub daily_type: Option<String>,
    pub daily_time: Option<String>,
    pub retry_enabled: Option<bool>,
    pub retry_number: Option<i64>,
    pub retry_wait_interval: Option<i64>,
}

/// `RESTBackupWindowSettings`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WindowInput {
    pub backup_window: Option<Vec<bool>>,
    pub minute_offset: Option<i64>,
}

fn invalid(field: &str, message: impl Into<String>) -> ValidationError {
    ValidationError::field(format!("schedulePolicy.{field}"), message)
}

fn window(field: &str, w: &WindowInput) -> Result<WeekWindow, ValidationError> {
    let slots = w
        .backup_window
        .clone()
        .unwrap_or_else(|| vec![true; WEEK_SLOTS]);
    WeekWindow::new(&slots, w.minute_offset.unwrap_or(0)).map_err(|e| invalid(field, e.0))
}

fn every(s: &str) -> Option<Every> {
    Some(match s.to_ascii_lowercase().as_str() {
        "minutes5" => Every::Minutes5,
        "minutes10" => Every::Minutes10,
        "minutes15" => Every::Minutes15,
        "minutes30" => Every::Minutes30,
        "hours1" => Every::Hours1,
        "hours2" => Every::Hours2,
        "hours4" => Every::Hours4,
        "hours8" => Every::Hours8,
        _ => return None,
    })
}

fn every_name(e: Every) -> &'static str {
    match e {
        Every::Minutes5 => "Minutes5",
        Every::Minutes10 => "Minutes10",
        Every::Minutes15 => "Minutes15",
        Every::Minutes30 => "Minutes30",
        Every::Hours1 => "Hours1",
        Every::Hours2 => "Hours2",
        Every::Hours4 => "Hours4",
        Every::Hours8 => "Hours8",
    }
}

fn daily(s: &str) -> Option<DailyDays> {
    Some(match s.to_ascii_lowercase().as_str() {
        "everyday" => DailyDays::Everyday,
        "workdays" => DailyDays::Workdays,
        "weekends" => DailyDays::Weekends,
        "monday" => DailyDays::Only(Weekday::Monday),
        "tuesday" => DailyDays::Only(Weekday::Tuesday),
        "wednesday" => DailyDays::Only(Weekday::Wednesday),
        "thursday" => DailyDays::Only(Weekday::Thursday),
        "friday" => DailyDays::Only(Weekday::Friday),
        "saturday" => DailyDays::Only(Weekday::Saturday),
        "sunday" => DailyDays::Only(Weekday::Sunday),
        _ => return None,
    })
}

fn daily_name(d: DailyDays) -> String {
    match d {
        DailyDays::Everyday => "Everyday".into(),
        DailyDays::Workdays => "Workdays".into(),
        DailyDays::Weekends => "Weekends".into(),
        DailyDays::Only(day) => day.to_string(),
    }
}

/// `dailyTime`: `HH:mm` or `HH:mm:ss` (UTC).
fn daily_time(s: &str) -> Option<Time> {
    let s = s.trim();
    Time::parse(s, format_description!("[hour]:[minute]:[second]"))
        .or_else(|_| Time::parse(s, format_description!("[hour]:[minute]")))
        .ok()
}

/// Validates a policy; absent properties take VB365's defaults (daily at
/// 15:00 every day, three retries ten minutes apart, no window).
pub fn parse_policy(input: &SchedulePolicyInput) -> Result<Schedule, ValidationError> {
    let default = Schedule::default();
    let kind = input
        .kind
        .as_deref()
        .unwrap_or("Daily")
        .to_ascii_lowercase();
    let trigger = match kind.as_str() {
        "manualonly" => Trigger::ManualOnly,
        "daily" => {
            let days = match &input.daily_type {
                None => DailyDays::Everyday,
                Some(s) => daily(s).ok_or_else(|| {
                    invalid("dailyType", format!("dailyType {s:?} is not one of Everyday, Workdays, Weekends or a day of the week"))
                })?,
            };
            let at = match &input.daily_time {
                None => match default.trigger {
                    Trigger::Daily { at, .. } => at,
                    _ => Time::MIDNIGHT,
                },
                Some(s) => daily_time(s).ok_or_else(|| {
                    invalid(
                        "dailyTime",
                        format!("dailyTime {s:?} is not a time of day (HH:mm:ss)"),
                    )
                })?,
            };
            Trigger::Daily { days, at }
        }
        "periodically" => {
            let every = match &input.periodically_every {
                None => return Err(invalid("periodicallyEvery", "a Periodically schedule needs periodicallyEvery (Minutes5 … Hours8)")),
                Some(s) => every(s).ok_or_else(|| {
                    invalid("periodicallyEvery", format!("periodicallyEvery {s:?} is not one of Minutes5, Minutes10, Minutes15, Minutes30, Hours1, Hours2, Hours4, Hours8"))
                })?,
            };
            let offset = input.periodically_offset_minutes.unwrap_or(0);
            if !(0..=59).contains(&offset) {
                return Err(invalid(
                    "periodicallyOffsetMinutes",
                    format!("periodicallyOffsetMinutes must be from 0 to 59; it is {offset}"),
                ));
            }
            let window = match &input.periodically_window_settings {
                Some(w) => Some(window("periodicallyWindowSettings", w)?),
                None => None,
            };
            Trigger::Periodically {
                every,
                offset_minutes: offset,
                window,
            }
        }
        _ => {
            return Err(invalid(
                "type",
                format!(
                    "type {:?} is not one of Daily, Periodically, ManualOnly",
                    input.kind.as_deref().unwrap_or("")
                ),
            ))
        }
    };
    let backup_window = match (
        input.backup_window_enabled.unwrap_or(false),
        &input.backup_window_settings,
    ) {
        (true, Some(w)) => Some(window("backupWindowSettings", w)?),
        (true, None) => {
            return Err(invalid(
                "backupWindowSettings",
                "backupWindowEnabled needs backupWindowSettings",
            ))
        }
        (false, _) => None,
    };
    let retry = if input.retry_enabled.unwrap_or(true) {
        let d = Retry::default();
        Some(
            Retry::new(
                input.retry_number.unwrap_or(i64::from(d.attempts)),
                input.retry_wait_interval.unwrap_or(d.wait.whole_minutes()),
            )
            .map_err(|e| invalid("retryNumber", e.0))?,
        )
    } else {
        None
    };
    Ok(Schedule {
        trigger,
        enabled: input.schedule_enabled.unwrap_or(true),
        backup_window,
        retry,
    })
}

fn window_json(w: &WeekWindow) -> Value {
    json!({ "backupWindow": w.slots(), "minuteOffset": w.minute_offset() })
}

/// The normalised `RESTJobSchedulePolicy` of a schedule.
pub fn policy_json(s: &Schedule) -> Value {
    let mut out = json!({
        "scheduleEnabled": s.enabled,
        "backupWindowEnabled": s.backup_window.is_some(),
        "retryEnabled": s.retry.is_some(),
    });
    let Value::Object(map) = &mut out else {
        return out;
    };
    if let Some(w) = &s.backup_window {
        map.insert("backupWindowSettings".into(), window_json(w));
    }
    if let Some(r) = &s.retry {
        map.insert("retryNumber".into(), json!(r.attempts));
        map.insert("retryWaitInterval".into(), json!(r.wait.whole_minutes()));
    }
    match &s.trigger {
        Trigger::ManualOnly => {
            map.insert("type".into(), json!("ManualOnly"));
        }
        Trigger::Daily { days, at } => {
            map.insert("type".into(), json!("Daily"));
            map.insert("dailyType".into(), json!(daily_name(*days)));
            map.insert(
                "dailyTime".into(),
                json!(format!(
                    "{:02}:{:02}:{:02}",
                    at.hour(),
                    at.minute(),
                    at.second()
                )),
            );
        }
        Trigger::Periodically {
            every,
            offset_minutes,
            window,
        } => {
            map.insert("type".into(), json!("Periodically"));
            map.insert("periodicallyEvery".into(), json!(every_name(*every)));
            map.insert("periodicallyOffsetMinutes".into(), json!(offset_minutes));
            if let Some(w) = window {
                map.insert("periodicallyWindowSettings".into(), window_json(w));
            }
        }
    }
    out
}

/// The schedule of a stored policy document (written by [`policy_json`]);
/// an unreadable one is treated as manual-only rather than guessed.
pub fn stored_schedule(policy: &str) -> Schedule {
    serde_json::from_str::<SchedulePolicyInput>(policy)
        .ok()
        .and_then(|p| parse_policy(&p).ok())
        .unwrap_or(Schedule {
            trigger: Trigger::ManualOnly,
            ..Schedule::default()
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_policy_round_trips_through_its_normalised_form() {
        let input: SchedulePolicyInput = serde_json::from_value(json!({
            "type": "Periodically", "periodicallyEvery": "Hours2", "periodicallyOffsetMinutes": 15,
            "retryEnabled": true, "retryNumber": 2, "retryWaitInterval": 5
        }))
        .unwrap();
        let s = parse_policy(&input).unwrap();
        let doc = policy_json(&s);
        assert_eq!(doc["periodicallyEvery"], "Hours2");
        assert_eq!(doc["retryNumber"], 2);
        assert_eq!(stored_schedule(&doc.to_string()), s);
    }

    #[test]
    fn bad_values_name_the_property() {
        for (doc, field) in [
            (json!({"type": "Hourly"}), "schedulePolicy.type"),
            (
                json!({"type": "Daily", "dailyTime": "25:00"}),
                "schedulePolicy.dailyTime",
            ),
            (
                json!({"type": "Periodically"}),
                "schedulePolicy.periodicallyEvery",
            ),
            (json!({"retryNumber": 0}), "schedulePolicy.retryNumber"),
            (
                json!({"backupWindowEnabled": true}),
                "schedulePolicy.backupWindowSettings",
            ),
        ] {
            let input: SchedulePolicyInput = serde_json::from_value(doc).unwrap();
            assert_eq!(
                parse_policy(&input).unwrap_err().field.as_deref(),
                Some(field)
            );
        }
    }

    #[test]
    fn defaults_are_daily_at_three_pm() {
        let s = parse_policy(&SchedulePolicyInput::default()).unwrap();
        assert_eq!(policy_json(&s)["dailyTime"], "15:00:00");
        assert_eq!(policy_json(&s)["dailyType"], "Everyday");
    }
}
