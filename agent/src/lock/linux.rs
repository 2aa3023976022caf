//! Linux: the record is the lock file itself (an `flock` does not keep
//! other processes from reading it), rewritten in place with `pwrite`.

use std::fs::File;
use std::os::unix::fs::FileExt;

/// The file the record is in: the lock file.
pub const RECORD_FILE: &str = dwell_core::paths::LOCK_FILE;

/// Writes `bytes` at `offset` of `file`, all of them.
pub fn write_at(file: &File, bytes: &[u8], offset: u64) -> std::io::Result<()> {
    file.write_all_at(bytes, offset)
}
