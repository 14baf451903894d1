//! Storage errors.

/// A storage failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// redb failed (IO, corruption, a lock held by another process). Boxed: redb's error is
    /// large and this one travels up every call.
    #[error("database: {0}")]
    Db(Box<redb::Error>),
    /// The database was written by another schema version.
    #[error("database schema version {found} is not the supported {expected}")]
    SchemaVersion {
        /// Version on disk.
        found: u32,
        /// Version this build reads.
        expected: u32,
    },
    /// The database belongs to another network.
    #[error("database holds genesis {found}, this network's genesis is {expected}")]
    WrongNetwork {
        /// Genesis hash on disk.
        found: String,
        /// This network's genesis hash.
        expected: String,
    },
    /// A stored record does not decode.
    #[error("corrupt {table} record: {reason}")]
    Corrupt {
        /// The table.
        table: &'static str,
        /// What was wrong.
        reason: String,
    },
}

macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for StorageError {
            fn from(e: $t) -> Self {
                StorageError::Db(Box::new(e.into()))
            }
        }
    )*};
}

from_redb!(
    redb::Error,
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);
