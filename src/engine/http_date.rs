//! RFC 9110 §5.6.7 HTTP-dates: the IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) and the two
//! obsolete forms a recipient must accept (RFC 850 `Sunday, 06-Nov-94 08:49:37 GMT`, asctime
//! `Sun Nov  6 08:49:37 1994`). Anything else is not a date: `0`, `1.5`, `2000`, a date
//! without its zone, a day that does not exist, or a weekday that does not match the date.
//! Used for the server clock (`Date`) and `Retry-After`.

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const LONG_DAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `n` ASCII digits as a number.
fn digits(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // At most 18 digits: no overflow.
    (s.len() <= 18).then(|| s.bytes().fold(0i64, |n, b| n * 10 + i64::from(b - b'0')))
}

/// `HH:MM:SS` as seconds into the day.
fn time(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    let (h, m, sec) = (digits(&s[0..2])?, digits(&s[3..5])?, digits(&s[6..8])?);
    (h < 24 && m < 60 && sec <= 60).then_some(h * 3600 + m * 60 + sec)
}

/// The instant, checked: the day exists and falls on `weekday` (0 = Sunday).
fn instant(y: i64, month: &str, d: i64, secs: i64, weekday: usize) -> Option<f64> {
    let m = MONTHS.iter().position(|&x| x == month)? as i64 + 1;
    if d < 1 || d > days_in_month(y, m) {
        return None;
    }
    let days = days_from_civil(y, m, d);
    // 1970-01-01 was a Thursday.
    if (days + 4).rem_euclid(7) as usize != weekday {
        return None;
    }
    Some((days * 86_400 + secs) as f64 * 1000.0)
}

/// An HTTP-date as ms since epoch, or `None`. `this_year` places an RFC 850 two-digit
/// year: one more than 50 years ahead of it is in the previous century.
///
/// # Example
/// ```
/// use freshtoken::engine::http_date::parse;
/// let t = Some(784_111_777_000.0);
/// assert_eq!(parse("Sun, 06 Nov 1994 08:49:37 GMT", 2026), t);
/// assert_eq!(parse("Sunday, 06-Nov-94 08:49:37 GMT", 2026), t);
/// assert_eq!(parse("Sun Nov  6 08:49:37 1994", 2026), t);
/// for bad in ["0", "1.5", "2000", "Sun, 06 Nov 1994 08:49:37", "Mon, 06 Nov 1994 08:49:37 GMT"] {
///     assert_eq!(parse(bad, 2026), None);
/// }
/// ```
pub fn parse(value: &str, this_year: i64) -> Option<f64> {
    let s = value.trim_ascii();
    // Every form is ASCII; anything else is refused before a byte offset could split a character.
    if !s.is_ascii() {
        return None;
    }
    if let Some(rest) = s.strip_suffix(" GMT") {
        if let Some(comma) = rest.as_bytes().windows(2).position(|w| w == b", ") {
            let (day, rest) = (&rest[..comma], &rest[comma + 2..]);
            let parts: Vec<&str> = rest.split(' ').collect();
            if let [date, clock] = parts[..] {
                // RFC 850: `06-Nov-94`
                let weekday = LONG_DAYS.iter().position(|&x| x == day)?;
                let mut p = date.split('-');
                let (d, m, yy) = (p.next()?, p.next()?, p.next()?);
                if p.next().is_some() || d.len() != 2 || yy.len() != 2 {
                    return None;
                }
                let mut y = 2000 + digits(yy)?;
                if y > this_year + 50 {
                    y -= 100;
                }
                return instant(y, m, digits(d)?, time(clock)?, weekday);
            }
            // IMF-fixdate: `06 Nov 1994 08:49:37`
            let weekday = DAYS.iter().position(|&x| x == day)?;
            let [d, m, y, clock] = parts[..] else { return None };
            if d.len() != 2 || y.len() != 4 {
                return None;
            }
            return instant(digits(y)?, m, digits(d)?, time(clock)?, weekday);
        }
        return None;
    }
    // asctime: `Sun Nov  6 08:49:37 1994` (a one-digit day is padded with a space)
    let b = s.as_bytes();
    if b.len() != 24 || b[3] != b' ' || b[7] != b' ' || b[10] != b' ' || b[19] != b' ' {
        return None;
    }
    let weekday = DAYS.iter().position(|&x| x == &s[0..3])?;
    let d = digits(s[8..10].trim_start_matches(' '))?;
    if s.as_bytes()[8] == b' ' && d > 9 {
        return None;
    }
    instant(digits(&s[20..24])?, &s[4..7], d, time(&s[11..19])?, weekday)
}

/// The (UTC) year of an instant (ms since epoch), for the RFC 850 two-digit-year rule.
pub fn year_of(wall: f64) -> i64 {
    1970 + (wall / 31_556_952_000.0).floor() as i64
}

/// A `Retry-After` value (RFC 9110 §10.2.3: delay-seconds or an HTTP-date) as a delay in ms
/// from `wall`, or `None` when it is neither.
///
/// # Example
/// ```
/// use freshtoken::engine::http_date::retry_after_ms;
/// assert_eq!(retry_after_ms("30", 0.0, 2026), Some(30_000.0));
/// assert_eq!(retry_after_ms("1.5", 0.0, 2026), None);
/// assert_eq!(retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", 784_111_767_000.0, 2026), Some(10_000.0));
/// ```
pub fn retry_after_ms(value: &str, wall: f64, this_year: i64) -> Option<f64> {
    let s = value.trim_ascii();
    if let Some(secs) = digits(s) {
        return Some(secs as f64 * 1000.0);
    }
    parse(s, this_year).map(|at| (at - wall).max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_forms_agree_and_only_they_are_dates() {
        let t = Some(784_111_777_000.0);
        assert_eq!(parse("  Sun, 06 Nov 1994 08:49:37 GMT ", 2026), t);
        assert_eq!(parse("Sunday, 06-Nov-94 08:49:37 GMT", 2026), t);
        assert_eq!(parse("Sun Nov  6 08:49:37 1994", 2026), t);
        assert_eq!(parse("Thu, 01 Jan 1970 00:00:00 GMT", 2026), Some(0.0));
        assert_eq!(parse("Tue, 29 Feb 2028 12:00:00 GMT", 2026).is_some(), true);
        for bad in [
            "", "0", "1.5", "2000", "4102444800", "soon",
            "Thu, 01 Jan 2099 00:00:00", "Fri, 31 Feb 2099 00:00:00 GMT", "Sun, 29 Feb 2026 00:00:00 GMT",
            "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:49 GMT", "Mon, 06 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 94 08:49:37 GMT",
            "Sunday, 06-Nov-1994 08:49:37 GMT", "Sun, 06-Nov-94 08:49:37 GMT", "Sun Nov 6 08:49:37 1994",
            "Sun Nov 06 08:49:37 1994 GMT", "Sun Nov  6 08:49:37 199\u{e9}", "\u{e9}un Nov  6 08:49:37 1994",
            "Sun, 06 Nov 1994 08:49:3\u{e9} GMT",
        ] {
            assert_eq!(parse(bad, 2026), None, "{bad:?}");
        }
    }

    #[test]
    fn a_two_digit_year_more_than_50_years_ahead_is_of_the_last_century() {
        // 2077 is 51 years ahead of 2026: 1977.
        assert_eq!(parse("Saturday, 01-Jan-77 00:00:00 GMT", 2026), Some(220924800000.0));
        // 2076 is exactly 50 years ahead of 2026: kept in this century.
        assert!(parse("Wednesday, 01-Jan-76 00:00:00 GMT", 2026).unwrap() > 3e12);
    }
}
