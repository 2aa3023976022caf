//! A Firefox add-on package (`.xpi`): a zip archive of the extension's files,
//! written here as a *stored* (uncompressed) zip, which every zip reader and
//! Firefox accept. No zip crate is in the tree and the files are a few
//! kilobytes, so the format is written by hand: a local header and the bytes
//! for each file, then the central directory and its end record (PKWARE
//! APPNOTE 4.3). Names are ASCII, sizes far below 4 GB, no dates (DOS 1980-01-01).

/// CRC-32 (IEEE 802.3, reflected, as zip uses it).
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// DOS date of 1980-01-01 (time 00:00 is 0).
const DOS_DATE: u16 = (1 << 5) | 1;

/// The zip archive of `files` (`(name, bytes)`), stored uncompressed.
/// `None` if a name or size does not fit the format's 16- and 32-bit fields.
pub fn stored_zip(files: &[(&str, &[u8])]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in files {
        let offset = u32::try_from(out.len()).ok()?;
        let size = u32::try_from(data.len()).ok()?;
        let name_len = u16::try_from(name.len()).ok()?;
        let crc = crc32(data);
        // Local file header.
        out.extend(0x0403_4b50u32.to_le_bytes());
        out.extend(20u16.to_le_bytes()); // version needed
        out.extend(0u16.to_le_bytes()); // flags
        out.extend(0u16.to_le_bytes()); // method: stored
        out.extend(0u16.to_le_bytes()); // time
        out.extend(DOS_DATE.to_le_bytes());
        out.extend(crc.to_le_bytes());
        out.extend(size.to_le_bytes());
        out.extend(size.to_le_bytes());
        out.extend(name_len.to_le_bytes());
        out.extend(0u16.to_le_bytes()); // extra
        out.extend(name.as_bytes());
        out.extend(*data);
        // Its central directory entry.
        central.extend(0x0201_4b50u32.to_le_bytes());
        central.extend(20u16.to_le_bytes()); // made by
        central.extend(20u16.to_le_bytes()); // needed
        central.extend(0u16.to_le_bytes());
        central.extend(0u16.to_le_bytes());
        central.extend(0u16.to_le_bytes());
        central.extend(DOS_DATE.to_le_bytes());
        central.extend(crc.to_le_bytes());
        central.extend(size.to_le_bytes());
        central.extend(size.to_le_bytes());
        central.extend(name_len.to_le_bytes());
        central.extend([0u8; 8]); // extra, comment, disk, internal attributes
        central.extend(0u32.to_le_bytes()); // external attributes
        central.extend(offset.to_le_bytes());
        central.extend(name.as_bytes());
    }
    let count = u16::try_from(files.len()).ok()?;
    let central_at = u32::try_from(out.len()).ok()?;
    let central_len = u32::try_from(central.len()).ok()?;
    out.extend(central);
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend([0u8; 4]); // disk numbers
    out.extend(count.to_le_bytes());
    out.extend(count.to_le_bytes());
    out.extend(central_len.to_le_bytes());
    out.extend(central_at.to_le_bytes());
    out.extend(0u16.to_le_bytes()); // comment
    Some(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn crc32_of_the_check_string() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn a_stored_zip_lists_and_holds_its_files() {
        let zip = stored_zip(&[("manifest.json", b"{}"), ("a/b.js", b"x();")]).unwrap();
        assert_eq!(&zip[..4], b"PK\x03\x04");
        // End record: two entries, the central directory where it says.
        let end = zip.len() - 22;
        assert_eq!(&zip[end..end + 4], b"PK\x05\x06");
        assert_eq!(u16::from_le_bytes([zip[end + 10], zip[end + 11]]), 2);
        let at = u32::from_le_bytes(zip[end + 16..end + 20].try_into().unwrap()) as usize;
        assert_eq!(&zip[at..at + 4], b"PK\x01\x02");
        // The first file's bytes follow its 30-byte header and its name.
        assert_eq!(&zip[30..43], b"manifest.json");
        assert_eq!(&zip[43..45], b"{}");
        // When `unzip` is installed, it agrees (tests the whole format).
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.zip");
        std::fs::write(&path, &zip).unwrap();
        if let Ok(out) = std::process::Command::new("unzip")
            .arg("-t")
            .arg(&path)
            .output()
        {
            let said = String::from_utf8_lossy(&out.stdout);
            assert!(out.status.success() && said.contains("No errors"), "{said}");
        }
    }
}
