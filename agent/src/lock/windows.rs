//! Windows: `LockFileEx` (under std's `try_lock`) keeps other processes from
//! reading the locked file, so the record that `status` and `disable` read
//! is a file of its own beside it, `agent.record`, rewritten in place.

use std::fs::File;
use std::os::windows::fs::FileExt;

/// The file the record is in, beside `agent.lock`.
pub const RECORD_FILE: &str = "agent.record";

/// Writes `bytes` at `offset` of `file`, all of them.
pub fn write_at(file: &File, mut bytes: &[u8], mut offset: u64) -> std::io::Result<()> {
    while !bytes.is_empty() {
        match file.seek_write(bytes, offset) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                bytes = &bytes[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
