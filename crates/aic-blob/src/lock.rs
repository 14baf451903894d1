//! Advisory file locks (`flock` on Unix) that survive the lock file being replaced.
//!
//! A lock held through a file that was since unlinked or renamed protects nothing, so after
//! locking we check that the path still names the file we locked, and retry if not. The kernel
//! drops the locks of a process that dies, which is what makes them safe across processes.

use std::fs::{File, TryLockError};
use std::io;

#[cfg(feature = "client")]
pub(crate) use client::{lock_path, Mode};

#[cfg(feature = "client")]
mod client {
    use std::fs::{File, OpenOptions, TryLockError};
    use std::io;
    use std::path::Path;

    /// Shared (pins) or exclusive (writers, evictors).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(crate) enum Mode {
        Shared,
        Exclusive,
    }

    /// Opens (creating) `path` and locks it. With `wait` false, `Ok(None)` when another open file
    /// holds a conflicting lock.
    pub(crate) fn lock_path(path: &Path, mode: Mode, wait: bool) -> io::Result<Option<File>> {
        loop {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(path)?;
            if wait {
                match mode {
                    Mode::Shared => file.lock_shared()?,
                    Mode::Exclusive => file.lock()?,
                }
            } else {
                let r = match mode {
                    Mode::Shared => file.try_lock_shared(),
                    Mode::Exclusive => file.try_lock(),
                };
                match r {
                    Ok(()) => {}
                    Err(TryLockError::WouldBlock) => return Ok(None),
                    Err(TryLockError::Error(e)) => return Err(e),
                }
            }
            match std::fs::metadata(path) {
                Ok(on_disk) if same_file(&file.metadata()?, &on_disk) => return Ok(Some(file)),
                Ok(_) => continue,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            }
        }
    }

    #[cfg(unix)]
    fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
        use std::os::unix::fs::MetadataExt;
        a.dev() == b.dev() && a.ino() == b.ino()
    }

    #[cfg(not(unix))]
    fn same_file(_: &std::fs::Metadata, _: &std::fs::Metadata) -> bool {
        true
    }
}

/// Locks an already open file without waiting; false if another open file holds a lock.
pub(crate) fn try_lock_exclusive(file: &File) -> io::Result<bool> {
    match file.try_lock() {
        Ok(()) => Ok(true),
        Err(TryLockError::WouldBlock) => Ok(false),
        Err(TryLockError::Error(e)) => Err(e),
    }
}
