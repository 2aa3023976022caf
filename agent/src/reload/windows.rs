//! Windows: the config file's directory watched with `ReadDirectoryChangesW`,
//! on a thread that waits for it (like inotify's on Linux: no wake-up while
//! nothing changes in that directory).
//!
//! The watch is armed before [`spawn_file_watcher`] returns, and armed again
//! as soon as a batch of changes arrives, before it is looked at: Windows
//! records changes only while a read is under way or between two reads, so
//! none falls between (a save right after the start is seen).
//!
//! Audited `unsafe`, all in [`Watch`]: one read under way at a time, on a
//! directory handle std opened (overlapped) and a buffer and `OVERLAPPED`
//! that [`Watch`] owns on the heap and frees only once no read is under way
//! (its `Drop` cancels one and waits for it); the event is an `OwnedHandle`.
//! What the system wrote is read back with bounds-checked safe code.
#![allow(unsafe_code)]

use std::fs::File;
use std::os::windows::fs::OpenOptionsExt;
use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle};
use std::path::Path;
use std::thread;
use std::time::Duration;

use tokio::sync::mpsc;
use windows_sys::Win32::Storage::FileSystem::{
    ReadDirectoryChangesW, FILE_NOTIFY_CHANGE_FILE_NAME, FILE_NOTIFY_CHANGE_LAST_WRITE,
    FILE_NOTIFY_CHANGE_SIZE,
};
use windows_sys::Win32::System::Threading::CreateEventW;
use windows_sys::Win32::System::IO::{CancelIoEx, GetOverlappedResult, OVERLAPPED};

/// `FILE_LIST_DIRECTORY`: the right to watch a directory's entries.
const FILE_LIST_DIRECTORY: u32 = 0x0001;
/// `FILE_FLAG_BACKUP_SEMANTICS` (needed to open a directory) and
/// `FILE_FLAG_OVERLAPPED` (a read is armed, then waited for).
const DIRECTORY_OVERLAPPED: u32 = 0x0200_0000 | 0x4000_0000;
/// `FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE`: editors may
/// still replace and remove the files in it.
const SHARE_ALL: u32 = 0x7;
/// What is watched: names (created, removed, renamed), writes, sizes.
const FILTER: u32 =
    FILE_NOTIFY_CHANGE_FILE_NAME | FILE_NOTIFY_CHANGE_LAST_WRITE | FILE_NOTIFY_CHANGE_SIZE;
/// The buffer for one batch of changes, in DWORDs (the alignment the call
/// requires): 4 KiB.
const BUFFER_WORDS: usize = 1024;

/// Watches `path`'s directory for `path` being written, replaced or removed;
/// sends `()` `settle` after each batch of such changes. `false` when the
/// directory cannot be watched.
pub fn spawn_file_watcher(path: &Path, settle: Duration, tx: mpsc::Sender<()>) -> bool {
    let Some(dir) = path.parent().filter(|d| d.is_dir()).map(Path::to_owned) else {
        return false;
    };
    let Some(name) = path.file_name().map(|n| n.to_string_lossy().to_lowercase()) else {
        return false;
    };
    // The thread arms the watch and says so before this returns.
    let (armed_tx, armed_rx) = std::sync::mpsc::channel();
    let spawned = thread::Builder::new()
        .name("dwell-file-watch".into())
        .spawn(move || {
            let mut watch = match Watch::new(&dir).and_then(|mut w| w.arm().map(|()| w)) {
                Ok(w) => {
                    let _ = armed_tx.send(Ok(()));
                    w
                }
                Err(e) => {
                    let _ = armed_tx.send(Err(e));
                    return;
                }
            };
            run(&mut watch, &name, settle, &tx, &dir);
        });
    if spawned.is_err() {
        return false;
    }
    match armed_rx.recv() {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, dir = %path.parent().unwrap_or(path).display(), "cannot watch this directory; changes are seen only when a command tells the agent, or at a restart");
            false
        }
        Err(_) => false,
    }
}

fn run(watch: &mut Watch, name: &str, settle: Duration, tx: &mpsc::Sender<()>, dir: &Path) {
    loop {
        let batch = watch.wait().and_then(|batch| watch.arm().map(|()| batch));
        let batch = match batch {
            Ok(batch) => batch,
            Err(e) => {
                tracing::warn!(error = %e, dir = %dir.display(), "file watch stopped");
                return;
            }
        };
        // Empty: more changes than the buffer holds; ours may be one.
        let ours = batch.is_empty() || names(&batch).any(|n| n.to_lowercase() == name);
        if ours {
            thread::sleep(settle);
            if tx.blocking_send(()).is_err() {
                return; // the run loop has ended
            }
        }
    }
}

/// A directory, its event, and the one read under way on it.
struct Watch {
    dir: File,
    event: OwnedHandle,
    /// Heap allocations (from `Box::into_raw`), freed in `Drop` once no read
    /// is under way; the system writes them while `pending`.
    overlapped: *mut OVERLAPPED,
    buffer: *mut [u32; BUFFER_WORDS],
    pending: bool,
}

impl Watch {
    fn new(dir: &Path) -> std::io::Result<Watch> {
        let dir = std::fs::OpenOptions::new()
            .access_mode(FILE_LIST_DIRECTORY)
            .share_mode(SHARE_ALL)
            .custom_flags(DIRECTORY_OVERLAPPED)
            .open(dir)?;
        // SAFETY: no security attributes, no name: a new manual-reset
        // event, not signalled; a null handle is a failure, checked.
        let raw = unsafe { CreateEventW(std::ptr::null(), 1, 0, std::ptr::null()) };
        if raw.is_null() {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: `raw` is a handle just created and owned by nobody else.
        let event = unsafe { OwnedHandle::from_raw_handle(raw) };
        Ok(Watch {
            dir,
            event,
            overlapped: Box::into_raw(Box::default()),
            buffer: Box::into_raw(Box::new([0u32; BUFFER_WORDS])),
            pending: false,
        })
    }

    /// Starts a read of the next changes (none may be under way).
    fn arm(&mut self) -> std::io::Result<()> {
        debug_assert!(!self.pending);
        let len = std::mem::size_of::<[u32; BUFFER_WORDS]>() as u32;
        // SAFETY: no read is under way, so the system holds neither
        // `overlapped` nor `buffer`: both are live heap allocations of their
        // types, written here once and then only by the system until the read
        // ends (`wait`, or `Drop`'s cancel and wait). `dir` is an open
        // directory handle with FILE_LIST_DIRECTORY and FILE_FLAG_OVERLAPPED,
        // and stays open as long as `self`.
        let ok = unsafe {
            self.overlapped.write(OVERLAPPED {
                hEvent: self.event.as_raw_handle(),
                ..Default::default()
            });
            ReadDirectoryChangesW(
                self.dir.as_raw_handle(),
                self.buffer.cast(),
                len,
                0,
                FILTER,
                std::ptr::null_mut(),
                self.overlapped,
                None,
            )
        };
        if ok == 0 {
            return Err(std::io::Error::last_os_error());
        }
        self.pending = true;
        Ok(())
    }

    /// Waits for the read under way to end; the `FILE_NOTIFY_INFORMATION`
    /// records it brought (empty: too many changes to hold).
    fn wait(&mut self) -> std::io::Result<Vec<u8>> {
        let mut returned = 0u32;
        // SAFETY: `overlapped` is the one of the read under way on `dir`;
        // waiting (bWait = TRUE) returns once the system is done with it and
        // with `buffer`.
        let ok = unsafe {
            GetOverlappedResult(self.dir.as_raw_handle(), self.overlapped, &mut returned, 1)
        };
        self.pending = false;
        if ok == 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: no read is under way: the buffer is ours to read.
        let buffer = unsafe { &*self.buffer };
        let returned = (returned as usize).min(std::mem::size_of_val(buffer));
        Ok(buffer
            .iter()
            .flat_map(|w| w.to_ne_bytes())
            .take(returned)
            .collect())
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if self.pending {
            let mut returned = 0u32;
            // SAFETY: cancels our own read on `dir`, then waits until the
            // system is done with `overlapped` and `buffer` (an error only
            // says the read ended, cancelled or not).
            unsafe {
                CancelIoEx(self.dir.as_raw_handle(), self.overlapped);
                GetOverlappedResult(self.dir.as_raw_handle(), self.overlapped, &mut returned, 1);
            }
        }
        // SAFETY: both came from `Box::into_raw` in `new`, and no read is
        // under way any more: nothing else refers to them.
        unsafe {
            drop(Box::from_raw(self.overlapped));
            drop(Box::from_raw(self.buffer));
        }
    }
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
            .as_chunks::<2>()
            .0
            .iter()
            .map(|c| u16::from_ne_bytes(*c))
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

    /// A real directory, changed at once after the start: a save of another
    /// file beside it is not taken, a save of the file is, and so is a new
    /// file renamed over it.
    #[test]
    fn saves_of_the_file_are_seen_from_the_start_and_others_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Config.toml");
        let (tx, mut rx) = mpsc::channel(4);
        assert!(spawn_file_watcher(&path, Duration::ZERO, tx));
        std::fs::write(dir.path().join("other.txt"), "x").unwrap();
        thread::sleep(Duration::from_millis(300));
        assert!(rx.try_recv().is_err(), "another file's change was taken");
        let seen = |rx: &mut mpsc::Receiver<()>| {
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while rx.try_recv().is_err() {
                assert!(
                    std::time::Instant::now() < deadline,
                    "the save was not seen"
                );
                thread::sleep(Duration::from_millis(20));
            }
        };
        std::fs::write(dir.path().join("config.toml"), "[limits]\n").unwrap();
        seen(&mut rx);
        let tmp = dir.path().join(".config.toml.new");
        std::fs::write(&tmp, "[limits]\ndaily = \"20m\"\n").unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        seen(&mut rx);
    }
}
