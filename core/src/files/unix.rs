//! Unix: private means the owner's permission bits alone (files 0600,
//! directories 0700), set when the file is created and again after (the umask
//! may take bits away); links are refused with `O_NOFOLLOW`.

use std::fs::{DirBuilder, OpenOptions, Permissions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Creates `dir` (and its parents) if needed and makes it 0700.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    std::fs::set_permissions(dir, Permissions::from_mode(0o700))
}

/// A file `opts` creates gets permissions `mode`.
pub fn with_mode(opts: &mut OpenOptions, mode: u32) -> &mut OpenOptions {
    opts.mode(mode)
}

/// Gives the existing file `path` the permissions `mode`.
pub fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    std::fs::set_permissions(path, Permissions::from_mode(mode))
}

/// `opts` refuses to open a symbolic link (`ELOOP`).
pub fn refuse_links(opts: &mut OpenOptions) -> &mut OpenOptions {
    opts.custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
}

/// How many names (hard links) the file of `meta` has.
pub fn link_count(meta: &std::fs::Metadata) -> u64 {
    meta.nlink()
}

/// Why `path` (or its directory) cannot be written, as the error the OS would
/// give and the path to name in it: a read-only mount, a nearly full disk
/// (under `nearly_full` bytes free), no write permission.
pub fn why_not_writable(path: &Path, nearly_full: u64) -> Option<(std::path::PathBuf, io::Error)> {
    use rustix::fs::{Access, StatVfsMountFlags};
    use rustix::io::Errno;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let read_only = || {
        (
            path.to_owned(),
            io::Error::from(io::ErrorKind::ReadOnlyFilesystem),
        )
    };
    if let Ok(fs) = rustix::fs::statvfs(dir) {
        if fs.f_flag.contains(StatVfsMountFlags::RDONLY) {
            return Some(read_only());
        }
        if fs.f_blocks > 0 && fs.f_bavail.saturating_mul(fs.f_frsize) < nearly_full {
            return Some((path.to_owned(), io::Error::from(io::ErrorKind::StorageFull)));
        }
    }
    for p in [dir, path] {
        match rustix::fs::access(p, Access::WRITE_OK) {
            Err(Errno::ACCESS | Errno::PERM) => {
                return Some((
                    p.to_owned(),
                    io::Error::from(io::ErrorKind::PermissionDenied),
                ))
            }
            Err(Errno::ROFS) => return Some(read_only()),
            _ => {}
        }
    }
    None
}
