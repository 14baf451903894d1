//! Block heights.

use std::fmt;

/// The height of a block: the number of blocks before it (genesis is height 0).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Height(pub u64);

impl Height {
    /// The genesis block's height.
    pub const GENESIS: Height = Height(0);

    /// The next height, `None` on overflow.
    #[must_use]
    pub fn next(self) -> Option<Height> {
        self.0.checked_add(1).map(Height)
    }

    /// The previous height, `None` at genesis.
    #[must_use]
    pub fn prev(self) -> Option<Height> {
        self.0.checked_sub(1).map(Height)
    }
}

impl fmt::Display for Height {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
