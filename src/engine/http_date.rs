//! RFC 9110 §5.6.7 HTTP-dates: the IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) and the two
//! obsolete forms a recipient must accept (RFC 850 `Sunday, 06-Nov-94 08:49:37 GMT`, asctime
//! `Sun Nov  6 08:49:37 1994`). Anything else is not a date: `0`, `1.5`, `2000`, a date
//! without its zone, a day that does not exist, or a weekday that does not match the date.
//! Used for the server clock (`Date`) and `Retry-After`.

const MONTHS: &[u8; 36] = b"JanFebMarAprMayJunJulAugSepOctNovDec";
const DAYS: &[u8; 21] = b"SunMonTueWedThuFriSat";
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

/// The `len` bytes of `b` at `at`, all ASCII digits (1 to 18 of them: no overflow), as a number.
fn num(b: &[u8], at: usize, len: usize) -> Option<i64> {
    let s = b.get(at..at + len).filter(|s| (1..=18).contains(&s.len()))?;
    s.iter().try_fold(0i64, |n, &c| c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0')))
}

/// The 3-byte name at `at` in a list of 3-byte names (`MONTHS`, `DAYS`): its index.
fn name3(list: &[u8], b: &[u8], at: usize) -> Option<i64> {
    let name = b.get(at..at + 3)?;
    list.chunks(3).position(|x| x == name).map(|i| i as i64)
}

/// `HH:MM:SS` at `at`, as seconds into the day.
fn time(b: &[u8], at: usize) -> Option<i64> {
    if b.get(at + 2) != Some(&b':') || b.get(at + 5) != Some(&b':') {
        return None;
    }
    let (h, m, sec) = (num(b, at, 2)?, num(b, at + 3, 2)?, num(b, at + 6, 2)?);
    (h < 24 && m < 60 && sec <= 60).then_some(h * 3600 + m * 60 + sec)
}

/// Whether `b` has `c` at each of `at`.
fn at_each(b: &[u8], c: u8, at: &[usize]) -> bool {
    at.iter().all(|&i| b.get(i) == Some(&c))
}

/// The instant, checked: month `m0` (0 = January), the day exists and falls on `weekday`
/// (0 = Sunday).
fn instant(y: i64, m0: i64, d: i64, secs: i64, weekday: i64) -> Option<f64> {
    let m = m0 + 1;
    if d < 1 || d > days_in_month(y, m) {
        return None;
    }
    let days = days_from_civil(y, m, d);
    // 1970-01-01 was a Thursday.
    ((days + 4).rem_euclid(7) == weekday).then(|| (days * 86_400 + secs) as f64 * 1000.0)
}

/// An HTTP-date as ms since epoch, or `None`. `this_year` places an RFC 850 two-digit
/// year: one more than 50 years ahead of it is in the previous century.
///
/// Each form has fixed positions after its weekday, so each is checked byte by byte (every
/// form is ASCII: a byte test never splits a character).
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
    let s = value.as_bytes().trim_ascii();
    if let Some(comma) = s.iter().position(|&c| c == b',') {
        let (day, t) = (&s[..comma], &s[comma..]);
        if !t.ends_with(b" GMT") {
            return None;
        }
        if t.len() == 26 && day.len() == 3 {
            // IMF-fixdate: `, 06 Nov 1994 08:49:37 GMT`
            if !at_each(t, b' ', &[1, 4, 8, 13]) {
                return None;
            }
            return instant(num(t, 9, 4)?, name3(MONTHS, t, 5)?, num(t, 2, 2)?, time(t, 14)?, name3(DAYS, day, 0)?);
        }
        if t.len() == 24 && at_each(t, b'-', &[4, 8]) && at_each(t, b' ', &[1, 11]) {
            // RFC 850: `, 06-Nov-94 08:49:37 GMT`
            let weekday = LONG_DAYS.iter().position(|x| x.as_bytes() == day)? as i64;
            let mut y = 2000 + num(t, 9, 2)?;
            if y > this_year + 50 {
                y -= 100;
            }
            return instant(y, name3(MONTHS, t, 5)?, num(t, 2, 2)?, time(t, 12)?, weekday);
        }
        return None;
    }
    // asctime: `Sun Nov  6 08:49:37 1994` (a one-digit day is padded with a space)
    if s.len() != 24 || !at_each(s, b' ', &[3, 7, 10, 19]) {
        return None;
    }
    let d = if s[8] == b' ' { num(s, 9, 1)? } else { num(s, 8, 2)? };
    instant(num(s, 20, 4)?, name3(MONTHS, s, 4)?, d, time(s, 11)?, name3(DAYS, s, 0)?)
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
    if let Some(secs) = num(s.as_bytes(), 0, s.len()) {
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
