//! Windows: dwell's files live in the user's profile (`%LOCALAPPDATA%\dwell`,
//! `%APPDATA%\dwell`), whose access list already grants the user, SYSTEM and
//! the administrators alone, and files created there inherit it: private
//! without setting anything, so modes are not applied (there are no mode
//! bits). Reparse points (symbolic links, junctions) are opened as themselves,
//! never followed.

use std::fs::OpenOptions;
use std::io;
use std::os::windows::fs::OpenOptionsExt;
use std::path::Path;

/// `FILE_FLAG_OPEN_REPARSE_POINT`: open a link itself, not what it names.
const FILE_FLAG_OPEN_REPARSE_POINT: u32 = 0x0020_0000;

/// Creates `dir` (and its parents) if needed; it inherits the profile's
/// access list.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)
}

/// No mode bits on Windows: the file inherits its directory's access list.
pub fn with_mode(opts: &mut OpenOptions, _mode: u32) -> &mut OpenOptions {
    opts
}

/// No mode bits on Windows: the file keeps its directory's access list.
pub fn set_mode(_path: &Path, _mode: u32) -> io::Result<()> {
    Ok(())
}

/// `opts` opens a symbolic link or junction itself, not its target (dwell's
/// checks of its own files then see and refuse the link).
pub fn refuse_links(opts: &mut OpenOptions) -> &mut OpenOptions {
    opts.custom_flags(FILE_FLAG_OPEN_REPARSE_POINT)
}

/// How many names the file of `meta` has: std does not say on Windows (yet:
/// `MetadataExt::number_of_links` is unstable), so hard links are not
/// detected there.
pub fn link_count(_meta: &std::fs::Metadata) -> u64 {
    1
}

/// No look at the disk after a failure on Windows (yet): the error SQLite or
/// the OS gave is reported as it is.
pub fn why_not_writable(
    _path: &Path,
    _nearly_full: u64,
) -> Option<(std::path::PathBuf, io::Error)> {
    None
}
