//! The Windows calls behind the pipe door, and the only `unsafe` code in
//! [`super`]: who the current user is (their SID), the pipe's access list
//! (that user alone), which process is at the other end of a pipe, and a
//! process's image. Each call is wrapped in a safe function that owns what
//! Windows hands back (handles closed, local memory freed) and turns failures
//! into `std::io::Error`s.
#![allow(unsafe_code)]

use std::ffi::c_void;
use std::io;
use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle, RawHandle};

use windows_sys::Win32::Foundation::{LocalFree, HANDLE, HLOCAL};
use windows_sys::Win32::Security::Authorization::{
    ConvertSidToStringSidW, ConvertStringSecurityDescriptorToSecurityDescriptorW, SDDL_REVISION_1,
};
use windows_sys::Win32::Security::{
    GetTokenInformation, TokenUser, PSECURITY_DESCRIPTOR, SECURITY_ATTRIBUTES, TOKEN_QUERY,
    TOKEN_USER,
};
use windows_sys::Win32::System::Pipes::{GetNamedPipeClientProcessId, GetNamedPipeServerProcessId};
use windows_sys::Win32::System::Threading::{
    GetCurrentProcess, OpenProcess, OpenProcessToken, QueryFullProcessImageNameW,
    PROCESS_NAME_WIN32, PROCESS_QUERY_LIMITED_INFORMATION,
};

/// Frees memory that Windows allocated with `LocalAlloc` when dropped.
struct Local(HLOCAL);

impl Drop for Local {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: self.0 came from a Windows call that hands back memory
            // allocated with LocalAlloc for the caller to free, and is freed once.
            unsafe { LocalFree(self.0) };
        }
    }
}

/// A UTF-16 string, NUL-terminated, for a Windows call.
fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(std::iter::once(0)).collect()
}

/// The SID of the user this process runs as, in its string form (`S-1-5-…`).
pub fn current_user_sid() -> io::Result<String> {
    let mut token: HANDLE = std::ptr::null_mut();
    // SAFETY: GetCurrentProcess returns a pseudo-handle that needs no closing;
    // `token` is a valid place for the handle OpenProcessToken writes.
    if unsafe { OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token) } == 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: OpenProcessToken succeeded: `token` is an open handle we own.
    let token = unsafe { OwnedHandle::from_raw_handle(token as RawHandle) };
    let mut needed = 0u32;
    // SAFETY: a size query: no buffer, `needed` receives the size.
    unsafe {
        GetTokenInformation(
            token.as_raw_handle() as HANDLE,
            TokenUser,
            std::ptr::null_mut(),
            0,
            &mut needed,
        )
    };
    if needed == 0 {
        return Err(io::Error::last_os_error());
    }
    // u64s keep the buffer aligned for TOKEN_USER.
    let mut buf = vec![0u64; (needed as usize).div_ceil(8)];
    // SAFETY: `buf` holds at least `needed` bytes, as the call is told.
    let ok = unsafe {
        GetTokenInformation(
            token.as_raw_handle() as HANDLE,
            TokenUser,
            buf.as_mut_ptr().cast::<c_void>(),
            needed,
            &mut needed,
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the call succeeded, so `buf` starts with an aligned TOKEN_USER
    // whose SID pointer points into `buf`, alive until the end of this function.
    let sid = unsafe { (*buf.as_ptr().cast::<TOKEN_USER>()).User.Sid };
    let mut text: *mut u16 = std::ptr::null_mut();
    // SAFETY: `sid` is a valid SID (above); `text` receives a LocalAlloc'd string.
    if unsafe { ConvertSidToStringSidW(sid, &mut text) } == 0 {
        return Err(io::Error::last_os_error());
    }
    let _free = Local(text.cast());
    // SAFETY: `text` is a NUL-terminated UTF-16 string (ConvertSidToStringSidW's
    // contract), alive until `_free` drops.
    Ok(unsafe { from_wide_nul(text) })
}

/// A NUL-terminated UTF-16 string.
///
/// # Safety
/// `p` points to a NUL-terminated UTF-16 string.
unsafe fn from_wide_nul(p: *const u16) -> String {
    let mut len = 0;
    // SAFETY: the caller's promise: the string ends with a NUL within bounds.
    while unsafe { *p.add(len) } != 0 {
        len += 1;
    }
    // SAFETY: the `len` units before the NUL are the string's.
    String::from_utf16_lossy(unsafe { std::slice::from_raw_parts(p, len) })
}

/// A security descriptor made from its SDDL text, with the
/// `SECURITY_ATTRIBUTES` that point at it; both live as long as this.
pub struct Security {
    descriptor: Local,
    attributes: SECURITY_ATTRIBUTES,
}

impl Security {
    /// An access list granting the user whose SID is `sid` everything, and no
    /// one else anything (a protected DACL: nothing inherited).
    pub fn user_only(sid: &str) -> io::Result<Security> {
        // Only a SID's characters: nothing else may reach the SDDL text.
        if !sid.starts_with("S-")
            || !sid
                .chars()
                .all(|c| c.is_ascii_digit() || c == '-' || c == 'S')
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a SID in string form",
            ));
        }
        let sddl = wide(&format!("D:P(A;;GA;;;{sid})"));
        let mut descriptor: PSECURITY_DESCRIPTOR = std::ptr::null_mut();
        // SAFETY: `sddl` is NUL-terminated UTF-16; `descriptor` receives a
        // LocalAlloc'd descriptor, freed by `Local`.
        let ok = unsafe {
            ConvertStringSecurityDescriptorToSecurityDescriptorW(
                sddl.as_ptr(),
                SDDL_REVISION_1,
                &mut descriptor,
                std::ptr::null_mut(),
            )
        };
        if ok == 0 {
            return Err(io::Error::last_os_error());
        }
        let descriptor = Local(descriptor);
        let attributes = SECURITY_ATTRIBUTES {
            nLength: std::mem::size_of::<SECURITY_ATTRIBUTES>() as u32,
            lpSecurityDescriptor: descriptor.0,
            bInheritHandle: 0,
        };
        Ok(Security {
            descriptor,
            attributes,
        })
    }

    /// Creates a pipe instance with this access list.
    pub fn create(
        &mut self,
        options: &tokio::net::windows::named_pipe::ServerOptions,
        name: &str,
    ) -> io::Result<tokio::net::windows::named_pipe::NamedPipeServer> {
        debug_assert_eq!(self.attributes.lpSecurityDescriptor, self.descriptor.0);
        // SAFETY: `attributes` is a valid SECURITY_ATTRIBUTES whose descriptor
        // (owned by `self.descriptor`) outlives the call, which only reads it.
        unsafe {
            options.create_with_security_attributes_raw(
                name,
                (&mut self.attributes as *mut SECURITY_ATTRIBUTES).cast::<c_void>(),
            )
        }
    }
}

/// The process id of the client at the other end of a server's pipe.
pub fn pipe_client_pid(pipe: &impl AsRawHandle) -> io::Result<u32> {
    let mut pid = 0u32;
    // SAFETY: the handle is an open pipe handle borrowed for the call; `pid`
    // is a valid place for the id.
    if unsafe { GetNamedPipeClientProcessId(pipe.as_raw_handle() as HANDLE, &mut pid) } == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(pid)
}

/// The process id of the server at the other end of a client's pipe.
pub fn pipe_server_pid(pipe: &impl AsRawHandle) -> io::Result<u32> {
    let mut pid = 0u32;
    // SAFETY: as in pipe_client_pid.
    if unsafe { GetNamedPipeServerProcessId(pipe.as_raw_handle() as HANDLE, &mut pid) } == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(pid)
}

/// The full path of process `pid`'s image (`C:\…\dwell-agent.exe`).
pub fn process_image(pid: u32) -> io::Result<String> {
    // SAFETY: OpenProcess takes plain values; a null handle is a failure.
    let process = unsafe { OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid) };
    if process.is_null() {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: an open process handle we own from here.
    let process = unsafe { OwnedHandle::from_raw_handle(process as RawHandle) };
    let mut buf = vec![0u16; 32 * 1024];
    let mut len = buf.len() as u32;
    // SAFETY: `buf` holds `len` UTF-16 units, as the call is told; it writes
    // the length it used back into `len`.
    let ok = unsafe {
        QueryFullProcessImageNameW(
            process.as_raw_handle() as HANDLE,
            PROCESS_NAME_WIN32,
            buf.as_mut_ptr(),
            &mut len,
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    buf.truncate(len as usize);
    Ok(String::from_utf16_lossy(&buf))
}
