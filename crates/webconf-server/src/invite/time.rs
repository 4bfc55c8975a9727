//! The few date and time operations invitations need, without a date library: reading the
//! `start` of a meeting (RFC 3339 in UTC, `2026-12-01T09:00:00Z`), writing it for iCalendar
//! (`20261201T090000Z`) and for people, in UTC and in Paris time.
//!
//! Why by hand: the whole need is one fixed input form, two output forms and the European
//! summer-time rule; a date crate would bring far more than that and still no time-zone data.
//! Calendar arithmetic is the civil-days algorithm of Howard Hinnant ("chrono-Compatible
//! Low-Level Date Algorithms"), exact over the whole proleptic Gregorian calendar.
//!
//! Paris time assumes the rule in force since 1996 (EU directive 2000/84/EC): UTC+2 from the
//! last Sunday of March, 01:00 UTC, to the last Sunday of October, 01:00 UTC; UTC+1 otherwise.
//! Mails always give the UTC time as well, so a reader never depends on this rule alone.

use std::time::{SystemTime, UNIX_EPOCH};

/// Earliest year accepted in a `start`: invitations are for meetings of this era.
const MIN_YEAR: i64 = 2000;
/// Latest year accepted in a `start`; also keeps every end time within four-digit years.
const MAX_YEAR: i64 = 2999;
const DAY: i64 = 86_400;

/// Why a `start` was refused. The message never repeats the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "a date and time in UTC like 2026-12-01T09:00:00Z is expected (years {MIN_YEAR} to {MAX_YEAR})"
)]
pub struct BadTime;

/// An instant, to the second, as seconds since 1970-01-01T00:00:00Z. Only built by
/// [`UtcTime::parse`] or [`UtcTime::from_system`], so its year is sane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct UtcTime(i64);

/// A date and time on a wall clock (UTC or local), for display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    /// Four digits.
    pub year: i64,
    /// 1 to 12.
    pub month: u32,
    /// 1 to 31.
    pub day: u32,
    /// 0 to 23.
    pub hour: u32,
    /// 0 to 59.
    pub minute: u32,
    /// 0 to 59.
    pub second: u32,
    /// 0 = Sunday … 6 = Saturday.
    pub weekday: u32,
}

impl UtcTime {
    /// Reads `YYYY-MM-DDTHH:MM:SSZ`, the UTC form of RFC 3339, as browsers write it with
    /// `Date.prototype.toISOString()`: optional fractional seconds (`.000`) are accepted and
    /// dropped. Anything else (another offset, a missing `Z`, lower-case `t`/`z`, a day that
    /// does not exist, a leap second, a year outside 2000..=2999) is refused.
    pub fn parse(s: &str) -> Result<UtcTime, BadTime> {
        let b = s.as_bytes();
        if b.len() < 20 || b.last() != Some(&b'Z') {
            return Err(BadTime);
        }
        let fixed = b.get(..19).ok_or(BadTime)?;
        let fraction = b.get(19..b.len() - 1).ok_or(BadTime)?;
        if !fraction.is_empty() {
            let digits = fraction.get(1..).unwrap_or_default();
            let ok = fraction.first() == Some(&b'.')
                && (1..=9).contains(&digits.len())
                && digits.iter().all(u8::is_ascii_digit);
            if !ok {
                return Err(BadTime);
            }
        }
        for (i, &c) in fixed.iter().enumerate() {
            let want_separator = match i {
                4 | 7 => Some(b'-'),
                10 => Some(b'T'),
                13 | 16 => Some(b':'),
                _ => None,
            };
            let ok = match want_separator {
                Some(sep) => c == sep,
                None => c.is_ascii_digit(),
            };
            if !ok {
                return Err(BadTime);
            }
        }
        let num = |from: usize, to: usize| -> i64 {
            fixed[from..to]
                .iter()
                .fold(0, |n, &d| n * 10 + i64::from(d - b'0'))
        };
        let (year, month, day) = (num(0, 4), num(5, 7), num(8, 10));
        let (hour, minute, second) = (num(11, 13), num(14, 16), num(17, 19));
        let month_ok = (1..=12).contains(&month);
        if !(MIN_YEAR..=MAX_YEAR).contains(&year)
            || !month_ok
            || day < 1
            || day > i64::from(days_in_month(year, month as u32))
            || hour > 23
            || minute > 59
            || second > 59
        {
            return Err(BadTime);
        }
        let days = days_from_civil(year, month as u32, day as u32);
        Ok(UtcTime(days * DAY + hour * 3600 + minute * 60 + second))
    }

    /// The current time of the system clock, to the second (for `DTSTAMP`).
    pub fn from_system(t: SystemTime) -> UtcTime {
        let secs = t
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
        UtcTime(secs)
    }

    /// This instant plus `minutes`.
    pub fn plus_minutes(self, minutes: u32) -> UtcTime {
        UtcTime(self.0 + i64::from(minutes) * 60)
    }

    /// The UTC wall clock.
    pub fn utc(self) -> Civil {
        civil(self.0)
    }

    /// The wall clock in Paris (metropolitan France) and its offset from UTC in hours (1 or 2).
    pub fn paris(self) -> (Civil, u32) {
        let offset = paris_offset_hours(self.0);
        (civil(self.0 + i64::from(offset) * 3600), offset)
    }

    /// iCalendar's UTC form (RFC 5545 §3.3.5, "form #2"): `20261201T090000Z`.
    pub fn ics(self) -> String {
        let c = self.utc();
        format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
            c.year, c.month, c.day, c.hour, c.minute, c.second
        )
    }

    /// RFC 3339 in UTC: `2026-12-01T09:00:00Z`.
    pub fn iso(self) -> String {
        let c = self.utc();
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            c.year, c.month, c.day, c.hour, c.minute, c.second
        )
    }
}

/// The wall clock `secs` seconds after the epoch (no offset applied).
fn civil(secs: i64) -> Civil {
    let days = secs.div_euclid(DAY);
    let rem = secs.rem_euclid(DAY);
    let (year, month, day) = civil_from_days(days);
    Civil {
        year,
        month,
        day,
        hour: (rem / 3600) as u32,
        minute: (rem % 3600 / 60) as u32,
        second: (rem % 60) as u32,
        weekday: weekday(days),
    }
}

/// 0 = Sunday … 6 = Saturday, for a count of days since 1970-01-01 (a Thursday).
fn weekday(days: i64) -> u32 {
    (days + 4).rem_euclid(7) as u32
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a count of days since 1970-01-01 (Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Days since the epoch of the last Sunday of `month` in `year`.
fn last_sunday(year: i64, month: u32) -> i64 {
    let last = days_from_civil(year, month, days_in_month(year, month));
    last - i64::from(weekday(last))
}

/// 2 during European summer time, 1 otherwise.
fn paris_offset_hours(secs: i64) -> u32 {
    let year = civil(secs).year;
    let start = last_sunday(year, 3) * DAY + 3600;
    let end = last_sunday(year, 10) * DAY + 3600;
    if (start..end).contains(&secs) {
        2
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> UtcTime {
        UtcTime::parse(s).unwrap()
    }

    #[test]
    fn parses_the_utc_form_and_writes_it_back() {
        for s in [
            "2026-12-01T09:00:00Z",
            "2000-01-01T00:00:00Z",
            "2024-02-29T23:59:59Z",
            "2999-12-31T23:59:59Z",
        ] {
            assert_eq!(t(s).iso(), s);
        }
        assert_eq!(t("2026-12-01T09:00:00Z").ics(), "20261201T090000Z");
        assert_eq!(t("2026-12-01T09:00:00.000Z"), t("2026-12-01T09:00:00Z"));
        assert_eq!(
            t("2026-12-01T09:00:00.123456789Z").iso(),
            "2026-12-01T09:00:00Z"
        );
        // Known Unix times.
        assert_eq!(t("2000-01-01T00:00:00Z").0, 946_684_800);
        assert_eq!(t("2026-12-01T09:00:00Z").0, 1_796_115_600);
    }

    #[test]
    fn refuses_everything_else() {
        for s in [
            "",
            "2026-12-01",
            "2026-12-01T09:00:00",
            "2026-12-01T09:00Z",
            "2026-12-01 09:00:00Z",
            "2026-12-01t09:00:00Z",
            "2026-12-01T09:00:00z",
            "2026-12-01T09:00:00+00:00",
            "2026-12-01T10:00:00+01:00",
            "2026-12-01T09:00:00.Z",
            "2026-12-01T09:00:00.1234567890Z",
            "2026-12-01T09:00:00,5Z",
            "2026-13-01T09:00:00Z",
            "2026-00-01T09:00:00Z",
            "2026-02-29T09:00:00Z",
            "2100-02-29T09:00:00Z",
            "2026-04-31T09:00:00Z",
            "2026-12-00T09:00:00Z",
            "2026-12-01T24:00:00Z",
            "2026-12-01T09:60:00Z",
            "2026-12-01T09:00:60Z",
            "1999-12-31T23:59:59Z",
            "3000-01-01T00:00:00Z",
            "+2026-12-01T09:00:00Z",
            "2026-12-01T09:00:00ZZ",
            "２０２６-12-01T09:00:00Z",
            "2026-1२-01T09:00:00Z",
        ] {
            assert_eq!(UtcTime::parse(s), Err(BadTime), "{s:?}");
        }
        assert!(!BadTime.to_string().contains("2026-13"));
    }

    #[test]
    fn civil_days_round_trip_and_weekdays() {
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(weekday(0), 4, "1970-01-01 was a Thursday");
        assert_eq!(t("2026-12-01T09:00:00Z").utc().weekday, 2, "a Tuesday");
        assert_eq!(t("2024-02-29T12:00:00Z").utc().weekday, 4, "a Thursday");
    }

    #[test]
    fn adding_minutes_crosses_days_months_and_years() {
        assert_eq!(
            t("2026-12-31T23:30:00Z").plus_minutes(60).iso(),
            "2027-01-01T00:30:00Z"
        );
        assert_eq!(
            t("2024-02-28T23:00:00Z").plus_minutes(1440).iso(),
            "2024-02-29T23:00:00Z"
        );
        assert_eq!(
            t("2026-12-01T09:00:00Z").plus_minutes(90).ics(),
            "20261201T103000Z"
        );
    }

    #[test]
    fn paris_is_utc_plus_one_in_winter_and_two_in_summer() {
        let paris = |s: &str| {
            let (c, offset) = t(s).paris();
            (format!("{:02}:{:02}", c.hour, c.minute), offset)
        };
        assert_eq!(paris("2026-12-01T09:00:00Z"), ("10:00".into(), 1));
        assert_eq!(paris("2026-07-14T08:00:00Z"), ("10:00".into(), 2));
        // 2026: summer time from Sunday 29 March 01:00 UTC to Sunday 25 October 01:00 UTC.
        assert_eq!(paris("2026-03-29T00:59:59Z"), ("01:59".into(), 1));
        assert_eq!(paris("2026-03-29T01:00:00Z"), ("03:00".into(), 2));
        assert_eq!(paris("2026-10-25T00:59:59Z"), ("02:59".into(), 2));
        assert_eq!(paris("2026-10-25T01:00:00Z"), ("02:00".into(), 1));
        // 2027: 28 March and 31 October.
        assert_eq!(paris("2027-03-28T01:00:00Z").1, 2);
        assert_eq!(paris("2027-03-27T12:00:00Z").1, 1);
        assert_eq!(paris("2027-10-31T00:00:00Z").1, 2);
        assert_eq!(paris("2027-11-01T00:00:00Z").1, 1);
        // The local date moves with the offset.
        let (c, _) = t("2026-12-31T23:30:00Z").paris();
        assert_eq!((c.year, c.month, c.day, c.hour), (2027, 1, 1, 0));
    }

    #[test]
    fn system_time_is_read_to_the_second() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_796_115_600_999);
        assert_eq!(UtcTime::from_system(t).iso(), "2026-12-01T09:00:00Z");
        assert_eq!(
            UtcTime::from_system(SystemTime::UNIX_EPOCH).ics(),
            "19700101T000000Z"
        );
    }
}
