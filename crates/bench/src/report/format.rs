//! How numbers are written in the report: rates with thousands separators, milliseconds with
//! two decimals below 10 ms, ratios with two decimals, memory in bytes or KiB, and "—" for a value that could not be
//! measured (never a misleading 0).

/// `12,345/s`.
pub fn rate(per_second: f64) -> String {
    if !per_second.is_finite() {
        return "—".into();
    }
    if per_second < 100.0 {
        return format!("{per_second:.1}/s");
    }
    let whole = per_second.round() as u64;
    let digits = whole.to_string();
    let mut grouped = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("{grouped}/s")
}

/// `1.23 ms`.
pub fn ms(value: f64) -> String {
    if !value.is_finite() {
        return "—".into();
    }
    if value < 10.0 {
        format!("{value:.2} ms")
    } else {
        format!("{value:.1} ms")
    }
}

/// `0.72`; `0.043` below 0.1, so a small ratio does not read as zero.
pub fn ratio(value: f64) -> String {
    if !value.is_finite() {
        "—".into()
    } else if value.abs() < 0.1 {
        format!("{value:.3}")
    } else {
        format!("{value:.2}")
    }
}

/// `812 B`, `19.4 KiB` (KiB = 1,024 bytes); negative when memory shrank.
pub fn bytes(value: f64) -> String {
    if !value.is_finite() {
        return "—".into();
    }
    if value.abs() < 1024.0 {
        format!("{value:.0} B")
    } else {
        format!("{:.1} KiB", value / 1024.0)
    }
}

/// `3`, `0.25`: seconds without trailing zeros.
pub fn seconds(value: f64) -> String {
    trim_float(value)
}

/// Every run's value, in order: `a · b · c`.
pub fn runs(values: &[f64], format: fn(f64) -> String) -> String {
    values
        .iter()
        .map(|v| format(*v))
        .collect::<Vec<_>>()
        .join(" · ")
}

pub(super) fn trim_float(value: f64) -> String {
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_numbers() {
        assert_eq!(rate(1234567.4), "1,234,567/s");
        assert_eq!(rate(999.0), "999/s");
        assert_eq!(rate(42.25), "42.2/s");
        assert_eq!(ms(1.2345), "1.23 ms");
        assert_eq!(ms(f64::NAN), "—");
        assert_eq!(ratio(0.6049), "0.60");
        assert_eq!(ratio(0.0431), "0.043");
        assert_eq!(bytes(812.4), "812 B");
        assert_eq!(bytes(19_865.6), "19.4 KiB");
        assert_eq!(bytes(-2048.0), "-2.0 KiB");
        assert_eq!(trim_float(3.0), "3");
        assert_eq!(trim_float(0.25), "0.25");
    }
}
