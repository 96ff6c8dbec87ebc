//! Parameter checks at the door: every study request and probe setting is checked when it is
//! built, before any work starts, and a bad value gets one message naming the field (with its
//! CLI flag), the value and what is allowed. The GUI and the CLI build their requests through
//! the same functions, so both shells say the same thing and neither clamps.

use std::fmt::Display;
use std::ops::RangeInclusive;

/// A parameter outside what it allows.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field} must be {allowed}, got {value}")]
pub struct InvalidParam {
    /// The field, with its CLI flag: `probe rank (--rank)`.
    pub field: &'static str,
    /// The value given.
    pub value: String,
    /// What is allowed: `from 1 to 4096`.
    pub allowed: String,
}

impl InvalidParam {
    /// `field` with `value`, allowing `allowed`.
    pub fn new(field: &'static str, value: impl Display, allowed: impl Into<String>) -> Self {
        Self {
            field,
            value: value.to_string(),
            allowed: allowed.into(),
        }
    }
}

/// `value` when it lies in `range`.
pub fn whole_in<T>(
    field: &'static str,
    value: T,
    range: RangeInclusive<T>,
) -> Result<T, InvalidParam>
where
    T: PartialOrd + Display + Copy,
{
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(InvalidParam::new(
            field,
            value,
            format!("from {} to {}", range.start(), range.end()),
        ))
    }
}

/// `value` when it is finite and in `min..=max` (`min` excluded when `min_excluded`).
pub fn real_in(
    field: &'static str,
    value: f64,
    (min, max): (f64, f64),
    min_excluded: bool,
) -> Result<f64, InvalidParam> {
    let above = if min_excluded {
        value > min
    } else {
        value >= min
    };
    if value.is_finite() && above && value <= max {
        Ok(value)
    } else {
        let low = if min_excluded { "above" } else { "at least" };
        Err(InvalidParam::new(
            field,
            value,
            format!("a number {low} {min} and at most {max}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_value_names_the_field_the_value_and_the_range() {
        assert_eq!(whole_in("rank (--rank)", 64usize, 1..=4096), Ok(64));
        let err = whole_in("rank (--rank)", 0usize, 1..=4096).expect_err("0 is out");
        assert_eq!(
            err.to_string(),
            "rank (--rank) must be from 1 to 4096, got 0"
        );
        assert_eq!(real_in("l2 (--l2)", 0.0, (0.0, 1e6), false), Ok(0.0));
        let err = real_in("learning rate (--lr)", 0.0, (0.0, 10.0), true).expect_err("0 is out");
        assert_eq!(
            err.to_string(),
            "learning rate (--lr) must be a number above 0 and at most 10, got 0"
        );
        assert!(real_in("l2 (--l2)", f64::NAN, (0.0, 1e6), false).is_err());
        assert!(real_in("l2 (--l2)", f64::INFINITY, (0.0, f64::MAX), false).is_err());
    }
}
