//! Writing files whole or not at all, for `anyhow` code: the commands, the
//! tray (the settings file), the KWin script and `browser install` use these,
//! so none of them reaches into another's module for it.

use std::path::Path;

use anyhow::Result;

/// [`dwell_core::files::write_private`] (0600, whole or not at all), for anyhow code.
pub fn write_private(path: &Path, text: impl AsRef<[u8]>) -> Result<()> {
    Ok(dwell_core::files::write_private(path, text)?)
}

/// [`dwell_core::files::write_atomic`] (whole or not at all), for anyhow code.
pub fn write_atomic(path: &Path, text: impl AsRef<[u8]>, mode: u32) -> Result<()> {
    Ok(dwell_core::files::write_atomic(path, text, mode)?)
}
