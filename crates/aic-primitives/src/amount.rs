//! Amounts of AIC.

use std::fmt;
use std::str::FromStr;

/// An amount of AIC in base units (1 AIC = 10^8 units).
///
/// # Invariants
/// Arithmetic is checked only: there is no `Add` or `Sub` implementation, so an overflow or an
/// underflow is always a value the caller must handle.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Amount(u64);

impl Amount {
    /// Zero AIC.
    pub const ZERO: Amount = Amount(0);
    /// Base units in one AIC.
    pub const UNITS_PER_AIC: u64 = 100_000_000;
    /// One AIC.
    pub const ONE_AIC: Amount = Amount(Self::UNITS_PER_AIC);

    /// An amount of `units` base units.
    pub const fn from_units(units: u64) -> Amount {
        Amount(units)
    }

    /// A whole number of AIC, `None` on overflow.
    pub const fn from_aic(aic: u64) -> Option<Amount> {
        match aic.checked_mul(Self::UNITS_PER_AIC) {
            Some(u) => Some(Amount(u)),
            None => None,
        }
    }

    /// The amount in base units.
    pub const fn to_units(self) -> u64 {
        self.0
    }

    /// `self + rhs`, `None` on overflow.
    #[must_use]
    pub const fn checked_add(self, rhs: Amount) -> Option<Amount> {
        match self.0.checked_add(rhs.0) {
            Some(v) => Some(Amount(v)),
            None => None,
        }
    }

    /// `self - rhs`, `None` when `rhs > self`.
    #[must_use]
    pub const fn checked_sub(self, rhs: Amount) -> Option<Amount> {
        match self.0.checked_sub(rhs.0) {
            Some(v) => Some(Amount(v)),
            None => None,
        }
    }

    /// `self * rhs`, `None` on overflow.
    #[must_use]
    pub const fn checked_mul(self, rhs: u64) -> Option<Amount> {
        match self.0.checked_mul(rhs) {
            Some(v) => Some(Amount(v)),
            None => None,
        }
    }

    /// `self / rhs`, `None` when `rhs` is zero.
    #[must_use]
    pub const fn checked_div(self, rhs: u64) -> Option<Amount> {
        match self.0.checked_div(rhs) {
            Some(v) => Some(Amount(v)),
            None => None,
        }
    }
}

impl fmt::Display for Amount {
    /// Formats as a decimal number of AIC with eight decimals, e.g. `12.50000000`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{:08}",
            self.0 / Self::UNITS_PER_AIC,
            self.0 % Self::UNITS_PER_AIC
        )
    }
}

/// Why a decimal AIC amount could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AmountParseError {
    /// The text is not a decimal number.
    #[error("invalid amount {0:?}: expected a decimal number of AIC such as 1.5")]
    Invalid(String),
    /// More than eight decimals.
    #[error("invalid amount {0:?}: AIC has at most 8 decimals")]
    TooPrecise(String),
    /// The amount does not fit in 64 bits of base units.
    #[error("amount {0:?} is too large")]
    TooLarge(String),
}

impl FromStr for Amount {
    type Err = AmountParseError;

    /// Parses a decimal number of AIC (`"2"`, `"0.5"`, `"1.00000001"`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || AmountParseError::Invalid(s.to_owned());
        let (whole, frac) = match s.split_once('.') {
            Some((w, f)) => (w, f),
            None => (s, ""),
        };
        if whole.is_empty() && frac.is_empty() {
            return Err(invalid());
        }
        let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || !digits(frac) {
            return Err(invalid());
        }
        if frac.len() > 8 {
            return Err(AmountParseError::TooPrecise(s.to_owned()));
        }
        let too_large = || AmountParseError::TooLarge(s.to_owned());
        let whole: u64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| too_large())?
        };
        let mut frac_units: u64 = 0;
        for (i, b) in frac.bytes().enumerate() {
            frac_units += u64::from(b - b'0') * 10u64.pow(7 - i as u32);
        }
        whole
            .checked_mul(Self::UNITS_PER_AIC)
            .and_then(|w| w.checked_add(frac_units))
            .map(Amount)
            .ok_or_else(too_large)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display() {
        assert_eq!("1.5".parse::<Amount>(), Ok(Amount::from_units(150_000_000)));
        assert_eq!("0.00000001".parse::<Amount>(), Ok(Amount::from_units(1)));
        assert_eq!("7".parse::<Amount>(), Ok(Amount::from_units(700_000_000)));
        assert_eq!(Amount::from_units(150_000_001).to_string(), "1.50000001");
        assert!(matches!(
            "1.000000001".parse::<Amount>(),
            Err(AmountParseError::TooPrecise(_))
        ));
        assert!(matches!(
            "-1".parse::<Amount>(),
            Err(AmountParseError::Invalid(_))
        ));
        assert!(matches!(
            ".".parse::<Amount>(),
            Err(AmountParseError::Invalid(_))
        ));
        assert!(matches!(
            "999999999999999".parse::<Amount>(),
            Err(AmountParseError::TooLarge(_))
        ));
    }

    #[test]
    fn checked_arithmetic() {
        let max = Amount::from_units(u64::MAX);
        assert_eq!(max.checked_add(Amount::from_units(1)), None);
        assert_eq!(Amount::ZERO.checked_sub(Amount::from_units(1)), None);
        assert_eq!(Amount::from_aic(u64::MAX), None);
    }
}
