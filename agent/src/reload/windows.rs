//! Windows: the config file's directory watched with `ReadDirectoryChangesW`,
//! on a thread that blocks in it (like inotify's on Linux: no wake-up while
//! nothing changes in that directory).
//!
//! Audited `unsafe`: the one call to `ReadDirectoryChangesW`, synchronous
//! (no `OVERLAPPED`, no completion routine), on a directory handle std opened
//! and a buffer that both outlive the call. What it wrote is read back with
//! bounds-checked safe code.
#![allow(unsafe_code)]

use std::fs::File;
use std::os::windows::fs::OpenOptionsExt;
use std::os::windows::io::AsRawHandle;
use std::path::Path;
use std::thread;
use std::time::Duration;

use tokio::sync::mpsc;
use windows_sys::Win32::Storage::FileSystem::{
    ReadDirectoryChangesW, FILE_NOTIFY_CHANGE_FILE_NAME, FILE_NOTIFY_CHANGE_LAST_WRITE,
    FILE_NOTIFY_CHANGE_SIZE,
};

/// `FILE_LIST_DIRECTORY`: the right to watch a directory's entries.
const FILE_LIST_DIRECTORY: u32 = 0x0001;
/// `FILE_FLAG_BACKUP_SEMANTICS`: needed to open a directory.
const FILE_FLAG_BACKUP_SEMANTICS: u32 = 0x0200_0000;
/// `FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE`: editors may
/// still replace and remove the files in it.
const SHARE_ALL: u32 = 0x7;
/// What is watched: names (created, removed, renamed), writes, sizes.
const FILTER: u32 =
    FILE_NOTIFY_CHANGE_FILE_NAME | FILE_NOTIFY_CHANGE_LAST_WRITE | FILE_NOTIFY_CHANGE_SIZE;

/// Watches `path`'s directory for `path` being written, replaced or removed;
/// sends `()` `settle` after each batch of such changes. `false` when the
/// directory cannot be watched.
pub fn spawn_file_watcher(path: &Path, settle: Duration, tx: mpsc::Sender<()>) -> bool {
    let Some(dir) = path.parent().filter(|d| d.is_dir()) else {
        return false;
    };
    let Some(name) = path.file_name().map(|n| n.to_string_lossy().to_lowercase()) else {
        return false;
    };
    let handle = match std::fs::OpenOptions::new()
        .access_mode(FILE_LIST_DIRECTORY)
        .share_mode(SHARE_ALL)
        .custom_flags(FILE_FLAG_BACKUP_SEMANTICS)
        .open(dir)
    {
        Ok(h) => h,
        Err(e) => {
            tracing::warn!(error = %e, dir = %dir.display(), "cannot watch this directory; changes are seen only when a command tells the agent, or at a restart");
            return false;
        }
    };
    let dir = dir.to_owned();
    thread::Builder::new()
        .name("dwell-file-watch".into())
        .spawn(move || watch(&handle, &name, settle, &tx, &dir))
        .is_ok()
}

fn watch(handle: &File, name: &str, settle: Duration, tx: &mpsc::Sender<()>, dir: &Path) {
    // DWORD-aligned, as ReadDirectoryChangesW requires.
    let mut buffer = vec![0u32; 1024];
    loop {
        let bytes = match read_changes(handle, &mut buffer) {
            Ok(bytes) => bytes,
            Err(e) => {
                tracing::warn!(error = %e, dir = %dir.display(), "file watch stopped");
                return;
            }
        };
        // Zero bytes: more changes than the buffer holds; ours may be one.
        let ours = bytes.is_empty() || names(&bytes).any(|n| n.to_lowercase() == name);
        if ours {
            thread::sleep(settle);
            if tx.blocking_send(()).is_err() {
                return; // the run loop has ended
            }
        }
    }
}

/// Blocks until something in the directory of `handle` changes; returns the
/// `FILE_NOTIFY_INFORMATION` records written (empty: too many to hold).
fn read_changes(handle: &File, buffer: &mut [u32]) -> std::io::Result<Vec<u8>> {
    let len = u32::try_from(std::mem::size_of_val(buffer)).unwrap_or(u32::MAX);
    let mut returned = 0u32;
    // SAFETY: `handle` is a directory opened with FILE_LIST_DIRECTORY and
    // backup semantics, alive for the whole call; `buffer` is a DWORD-aligned
    // region of `len` bytes, borrowed mutably for the whole call. The call is
    // synchronous (null OVERLAPPED, no completion routine): nothing refers to
    // either once it returns, and it writes at most `len` bytes, `returned`
    // of them meaningful.
    let ok = unsafe {
        ReadDirectoryChangesW(
            handle.as_raw_handle(),
            buffer.as_mut_ptr().cast(),
            len,
            0,
            FILTER,
            &mut returned,
            std::ptr::null_mut(),
            None,
        )
    };
    if ok == 0 {
        return Err(std::io::Error::last_os_error());
    }
    let returned = (returned as usize).min(len as usize);
    Ok(buffer
        .iter()
        .flat_map(|w| w.to_ne_bytes())
        .take(returned)
        .collect())
}

/// The file names in `FILE_NOTIFY_INFORMATION` records: each is its offset
/// to the next (0: the last), the action, the name's length in bytes, then
/// the name in UTF-16. Anything that does not fit is left out.
fn names(records: &[u8]) -> impl Iterator<Item = String> + '_ {
    let u32_at = |at: usize| -> Option<u32> {
        let b = records.get(at..at + 4)?;
        Some(u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
    };
    let mut at = Some(0usize);
    std::iter::from_fn(move || {
        let start = at?;
        let next = u32_at(start)? as usize;
        let len = u32_at(start + 8)? as usize;
        at = (next != 0).then(|| start + next);
        let name = records.get(start + 12..start + 12 + len)?;
        let units: Vec<u16> = name
            .chunks_exact(2)
            .map(|c| u16::from_ne_bytes([c[0], c[1]]))
            .collect();
        Some(String::from_utf16_lossy(&units))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn record(next: u32, name: &str) -> Vec<u8> {
        let units: Vec<u16> = name.encode_utf16().collect();
        let mut r = Vec::new();
        r.extend(next.to_ne_bytes());
        r.extend(3u32.to_ne_bytes());
        r.extend(((units.len() * 2) as u32).to_ne_bytes());
        r.extend(units.iter().flat_map(|u| u.to_ne_bytes()));
        r
    }

    #[test]
    fn names_are_read_from_the_records_and_a_short_buffer_ends_them() {
        let mut first = record(0, "config.toml");
        let next = u32::try_from(first.len() + 2).unwrap();
        first[..4].copy_from_slice(&next.to_ne_bytes());
        first.extend([0, 0]);
        let mut both = first.clone();
        both.extend(record(0, "Notes.txt"));
        assert_eq!(
            names(&both).collect::<Vec<_>>(),
            ["config.toml", "Notes.txt"]
        );
        assert_eq!(names(&both[..20]).count(), 0);
        assert_eq!(names(&[]).count(), 0);
    }

    /// A real directory: a save of the file is seen, a save of another file
    /// beside it is not.
    #[test]
    fn a_save_of_the_file_is_seen_and_others_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let (tx, mut rx) = mpsc::channel(4);
        assert!(spawn_file_watcher(&path, Duration::ZERO, tx));
        // The watch is set once the thread blocks in its first read.
        thread::sleep(Duration::from_millis(300));
        std::fs::write(dir.path().join("other.txt"), "x").unwrap();
        thread::sleep(Duration::from_millis(300));
        assert!(rx.try_recv().is_err(), "another file's change was taken");
        std::fs::write(&path, "[limits]\n").unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while rx.try_recv().is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "the save was not seen"
            );
            thread::sleep(Duration::from_millis(20));
        }
    }
}
