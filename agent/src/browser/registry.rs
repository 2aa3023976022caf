//! `browser install|uninstall` on Windows: the browsers find native-messaging
//! hosts through the registry there, not in directories. Each browser's
//! manifest (the same text as on Linux, its `path` the full path of
//! `dwell-native-host.exe`) is written to
//! `%LOCALAPPDATA%\dwell\NativeMessagingHosts\<browser>\org.dwell.agent.json`,
//! and registered as the default value of
//! `HKCU\<the browser's key>\NativeMessagingHosts\org.dwell.agent`
//! (`key_of` below); uninstall removes both. Per user: nothing needs an
//! administrator. The table and the paths are plain functions, tested on
//! every platform; the registry calls are Windows-only.

use std::path::{Path, PathBuf};

use super::HOST_NAME;

/// Where `browser` looks for native-messaging hosts under `HKCU` (Chromium,
/// Chrome, Brave, Edge, Vivaldi and Firefox each have their own key).
pub fn key_of(browser: &str) -> Option<&'static str> {
    Some(match browser {
        "chromium" => r"Software\Chromium\NativeMessagingHosts",
        "chrome" => r"Software\Google\Chrome\NativeMessagingHosts",
        "brave" => r"Software\BraveSoftware\Brave-Browser\NativeMessagingHosts",
        "edge" => r"Software\Microsoft\Edge\NativeMessagingHosts",
        "vivaldi" => r"Software\Vivaldi\NativeMessagingHosts",
        "firefox" => r"Software\Mozilla\NativeMessagingHosts",
        _ => return None,
    })
}

/// The registry key naming dwell's host for `browser` (under `HKCU`).
pub fn host_key(browser: &str) -> Option<String> {
    key_of(browser).map(|k| format!(r"{k}\{HOST_NAME}"))
}

/// Where the manifest for `browser` is written, under `dir` (the default
/// data directory, `%LOCALAPPDATA%\dwell`).
pub fn manifest_path(dir: &Path, browser: &str) -> PathBuf {
    dir.join("NativeMessagingHosts")
        .join(browser)
        .join(format!("{HOST_NAME}.json"))
}

/// `path` without the `\\?\` that `canonicalize` puts before a drive letter
/// on Windows (browsers start hosts from plain paths).
pub fn plain_path(path: &Path) -> PathBuf {
    let text = path.to_string_lossy();
    match text.strip_prefix(r"\\?\") {
        Some(rest) if rest.as_bytes().get(1) == Some(&b':') => PathBuf::from(rest),
        _ => path.to_path_buf(),
    }
}

#[cfg(windows)]
pub use win::{install, remove};

#[cfg(windows)]
mod win {
    use std::path::{Path, PathBuf};

    use anyhow::{Context, Result};
    use winreg::enums::HKEY_CURRENT_USER;
    use winreg::RegKey;

    use super::{host_key, manifest_path, plain_path};
    use crate::browser::{host_manifest, BrowserArgs};
    use crate::files::write_private;
    use crate::words::refused;

    /// The browsers `args` names, and where their manifests go.
    fn targets(args: &BrowserArgs) -> Result<(Vec<&'static str>, PathBuf)> {
        if args.profile_dir.is_some() {
            return Err(refused(
                "--profile-dir is for Linux: on Windows the browsers find native-messaging hosts in the registry (HKCU), for every profile",
            ));
        }
        let dir = dwell_core::paths::default_data_dir().ok_or_else(|| {
            refused("LOCALAPPDATA is not set: cannot tell where to write the host manifests")
        })?;
        Ok((args.browser.names(), dir))
    }

    /// Writes each browser's manifest, running `exe`, and registers it.
    pub fn install(args: &BrowserArgs, exe: &Path) -> Result<()> {
        let (browsers, dir) = targets(args)?;
        let exe = plain_path(exe);
        let hkcu = RegKey::predef(HKEY_CURRENT_USER);
        for browser in browsers {
            let Some(key) = host_key(browser) else {
                continue;
            };
            let path = manifest_path(&dir, browser);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create {}", parent.display()))?;
            }
            write_private(&path, host_manifest(browser, &exe))?;
            let (k, _) = hkcu
                .create_subkey(&key)
                .with_context(|| format!(r"cannot create HKCU\{key}"))?;
            k.set_value("", &path.as_os_str())
                .with_context(|| format!(r"cannot write HKCU\{key}"))?;
            println!(
                r"{browser}: wrote {} and registered it at HKCU\{key}",
                path.display()
            );
        }
        Ok(())
    }

    /// Unregisters each browser's host and removes its manifest, saying
    /// each; how many were registered.
    pub fn remove(args: &BrowserArgs) -> Result<usize> {
        let (browsers, dir) = targets(args)?;
        let hkcu = RegKey::predef(HKEY_CURRENT_USER);
        let mut removed = 0;
        for browser in browsers {
            let Some(key) = host_key(browser) else {
                continue;
            };
            match hkcu.delete_subkey_all(&key) {
                Ok(()) => {
                    println!(r"{browser}: removed HKCU\{key}");
                    removed += 1;
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).with_context(|| format!(r"cannot remove HKCU\{key}")),
            }
            let path = manifest_path(&dir, browser);
            match std::fs::remove_file(&path) {
                Ok(()) => println!("{browser}: removed {}", path.display()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot remove {}", path.display()))
                }
            }
            if let Some(parent) = path.parent() {
                let _ = std::fs::remove_dir(parent);
            }
        }
        let _ = std::fs::remove_dir(dir.join("NativeMessagingHosts"));
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_browser_has_its_key() {
        for b in super::super::BROWSERS {
            assert!(key_of(b).is_some(), "{b}");
        }
        assert_eq!(
            host_key("edge").as_deref(),
            Some(r"Software\Microsoft\Edge\NativeMessagingHosts\org.dwell.agent")
        );
        assert_eq!(
            host_key("chrome").as_deref(),
            Some(r"Software\Google\Chrome\NativeMessagingHosts\org.dwell.agent")
        );
        assert_eq!(
            host_key("firefox").as_deref(),
            Some(r"Software\Mozilla\NativeMessagingHosts\org.dwell.agent")
        );
        assert_eq!(key_of("netscape"), None);
    }

    #[test]
    fn manifests_live_in_the_data_directory_one_per_browser() {
        let dir = Path::new("/data/dwell");
        assert_eq!(
            manifest_path(dir, "edge"),
            Path::new("/data/dwell/NativeMessagingHosts/edge/org.dwell.agent.json")
        );
        assert_ne!(manifest_path(dir, "edge"), manifest_path(dir, "firefox"));
    }

    #[test]
    fn paths_lose_the_verbatim_prefix() {
        assert_eq!(
            plain_path(Path::new(
                r"\\?\C:\Program Files\dwell\dwell-native-host.exe"
            )),
            Path::new(r"C:\Program Files\dwell\dwell-native-host.exe")
        );
        // A verbatim UNC path or anything else stays as it is.
        for keep in [r"\\?\UNC\server\share\x.exe", r"C:\x.exe", "/usr/bin/x"] {
            assert_eq!(plain_path(Path::new(keep)), Path::new(keep));
        }
    }
}
