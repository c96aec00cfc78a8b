//! Reading files from the workspace without ever blocking: only regular files are
//! opened. A FIFO, device or socket (or `/dev/stdin`) named in the workspace or
//! in `jue.toml` would block a plain `read` until something writes to it.

use std::io::{self, Read};
use std::path::Path;

fn not_regular(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("not a regular file: {}", path.display()),
    )
}

/// Reads a regular file whole. Anything else is an error, found without blocking:
/// the path's metadata is checked first, the file is opened with `O_NONBLOCK` (a
/// FIFO swapped in meanwhile does not block the open), and the opened file's own
/// metadata (fstat) is checked again before reading.
pub fn read_regular(path: &Path) -> io::Result<Vec<u8>> {
    if !std::fs::metadata(path)?.is_file() {
        return Err(not_regular(path));
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NONBLOCK);
    }
    let mut file = opts.open(path)?;
    if !file.metadata()?.is_file() {
        return Err(not_regular(path));
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// [`read_regular`] as UTF-8 text.
pub fn read_regular_text(path: &Path) -> io::Result<String> {
    String::from_utf8(read_regular(path)?).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {e}", path.display()),
        )
    })
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn reads_regular_files_and_refuses_the_rest_without_blocking() {
        let dir = std::env::temp_dir().join(format!("jue-lsp-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let f = dir.join("a.jue");
        std::fs::write(&f, "(define x 1)").expect("write");
        assert_eq!(read_regular_text(&f).expect("read"), "(define x 1)");
        let fifo = dir.join("pipe.jue");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            // Would block forever with std::fs::read: nobody writes to it.
            assert!(read_regular(&fifo).is_err());
        }
        assert!(read_regular(Path::new("/dev/null")).is_err());
        assert!(read_regular(&dir).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
