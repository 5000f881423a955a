//! A writer for the "newc" cpio format the kernel unpacks as its initramfs.
//!
//! Each entry is a 110-byte ASCII header (magic `070701`, thirteen 8-digit hex fields), the NUL
//! terminated name padded to 4 bytes, then the data padded to 4 bytes; a `TRAILER!!!` entry ends
//! the archive (see the kernel's Documentation/driver-api/early-userspace/buffer-format.rst).

/// File types for the `mode` field.
pub const DIR: u32 = 0o040000;
pub const FILE: u32 = 0o100000;
pub const CHAR_DEVICE: u32 = 0o020000;

#[derive(Default)]
pub struct Archive {
    bytes: Vec<u8>,
    next_inode: u32,
}

impl Archive {
    pub fn new() -> Self {
        Archive { bytes: Vec::new(), next_inode: 1 }
    }

    pub fn dir(&mut self, name: &str, perm: u32) {
        self.entry(name, DIR | perm, (0, 0), &[]);
    }

    pub fn file(&mut self, name: &str, perm: u32, data: &[u8]) {
        self.entry(name, FILE | perm, (0, 0), data);
    }

    pub fn char_device(&mut self, name: &str, perm: u32, major: u32, minor: u32) {
        self.entry(name, CHAR_DEVICE | perm, (major, minor), &[]);
    }

    /// Ends the archive and returns its bytes.
    pub fn finish(mut self) -> Vec<u8> {
        self.next_inode = 0;
        self.entry("TRAILER!!!", 0, (0, 0), &[]);
        self.bytes
    }

    fn entry(&mut self, name: &str, mode: u32, rdev: (u32, u32), data: &[u8]) {
        let inode = self.next_inode;
        self.next_inode += 1;
        let nlink = if mode & DIR != 0 { 2 } else { 1 };
        let fields = [
            inode,
            mode,
            0, // uid: root
            0, // gid: root
            nlink,
            0, // mtime: fixed, so the same inputs give the same bytes
            data.len() as u32,
            0, // devmajor
            0, // devminor
            rdev.0,
            rdev.1,
            name.len() as u32 + 1,
            0, // check: unused by newc
        ];
        self.bytes.extend_from_slice(b"070701");
        for field in fields {
            self.bytes.extend_from_slice(format!("{field:08x}").as_bytes());
        }
        self.bytes.extend_from_slice(name.as_bytes());
        self.bytes.push(0);
        self.pad();
        self.bytes.extend_from_slice(data);
        self.pad();
    }

    fn pad(&mut self) {
        while !self.bytes.len().is_multiple_of(4) {
            self.bytes.push(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(header: &[u8], i: usize) -> u32 {
        u32::from_str_radix(std::str::from_utf8(&header[6 + 8 * i..14 + 8 * i]).unwrap(), 16).unwrap()
    }

    #[test]
    fn file_entry_layout() {
        let mut a = Archive::new();
        a.file("init", 0o755, b"hello");
        let bytes = a.finish();
        assert_eq!(&bytes[..6], b"070701");
        assert_eq!(field(&bytes, 1), FILE | 0o755);
        assert_eq!(field(&bytes, 6), 5, "filesize");
        assert_eq!(field(&bytes, 11), 5, "namesize counts the NUL");
        // 110-byte header + "init\0" = 115, padded to 116; data at 116, padded to 124.
        assert_eq!(&bytes[110..116], b"init\0\0");
        assert_eq!(&bytes[116..121], b"hello");
        assert_eq!(&bytes[121..124], b"\0\0\0");
        assert_eq!(&bytes[124..130], b"070701");
        assert_eq!(&bytes[124 + 110..124 + 121], b"TRAILER!!!\0");
        assert_eq!(bytes.len() % 4, 0);
    }

    #[test]
    fn device_numbers_and_dirs() {
        let mut a = Archive::new();
        a.dir("dev", 0o755);
        a.char_device("dev/console", 0o600, 5, 1);
        let bytes = a.finish();
        assert_eq!(field(&bytes, 1), DIR | 0o755);
        assert_eq!(field(&bytes, 4), 2, "a directory has two links");
        let second = 112 + 4; // header + "dev\0" padded
        assert_eq!(field(&bytes[second..], 1), CHAR_DEVICE | 0o600);
        assert_eq!((field(&bytes[second..], 9), field(&bytes[second..], 10)), (5, 1));
    }

    /// The archive must read back with a real cpio implementation (`cargo xtask test` installs
    /// GNU cpio).
    #[test]
    fn gnu_cpio_lists_it() {
        let out = std::process::Command::new("cpio")
            .arg("--version")
            .output()
            .expect("cpio(1) is needed to cross-check the archive: apt-get install cpio");
        assert!(out.status.success());
        let mut a = Archive::new();
        a.dir("dev", 0o755);
        a.char_device("dev/console", 0o600, 5, 1);
        a.file("init", 0o755, &[0x7f, b'E', b'L', b'F', 1, 2, 3]);
        let bytes = a.finish();
        let mut child = std::process::Command::new("cpio")
            .args(["-t", "-v", "--quiet"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(&bytes).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        let listing = String::from_utf8(out.stdout).unwrap();
        let lines: Vec<_> = listing.lines().collect();
        assert_eq!(lines.len(), 3, "{listing}");
        assert!(lines[0].starts_with("drwxr-xr-x") && lines[0].ends_with(" dev"), "{listing}");
        assert!(lines[1].starts_with("crw-------") && lines[1].contains("5,") && lines[1].ends_with("dev/console"));
        assert!(lines[2].starts_with("-rwxr-xr-x") && lines[2].contains(" 7 ") && lines[2].ends_with(" init"));
    }
}
