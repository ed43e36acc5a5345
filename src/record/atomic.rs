//! Files written whole or not at all: a temporary file beside the target,
//! synced, then moved into place in one step. The record, the reports and
//! the journal's claim all go through here.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// Writes `bytes` to `path` through a temporary file and a rename.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomically_with(path, true, |file| file.write_all(bytes))
}

/// The directory a file is in (`.` for a bare name).
pub(crate) fn parent_dir(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Lets `write` fill a temporary file beside `path`, syncs it and moves it
/// to `path` (see [`place`]); on failure the temporary file is removed.
pub(crate) fn write_atomically_with(
    path: &Path,
    replace: bool,
    write: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let dir = parent_dir(path);
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map_or("record".into(), |n| n.to_string_lossy().into_owned());
    let temp = dir.join(format!(
        ".{name}.{}-{}.tmp",
        std::process::id(),
        WRITES.fetch_add(1, Ordering::Relaxed)
    ));
    let mut file = File::create(&temp)?;
    let written = write(&mut file).and_then(|()| file.sync_all());
    drop(file);
    let placed = written.and_then(|()| place(&temp, path, replace));
    if placed.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    placed
}

/// Moves the finished file `temp` to `path` in one step. With `replace` it
/// is a rename (over whatever is there); without, a hard link that fails
/// with `AlreadyExists` when `path` is taken — atomic, so of two runs
/// placing the same name one wins and the other is told — then `temp` is
/// removed. A file system without hard links gets a check, then a rename.
pub(crate) fn place(temp: &Path, path: &Path, replace: bool) -> std::io::Result<()> {
    if replace {
        return std::fs::rename(temp, path);
    }
    match std::fs::hard_link(temp, path) {
        Ok(()) => {
            let _ = std::fs::remove_file(temp);
            Ok(())
        }
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Err(err),
        Err(_) if path.exists() => Err(std::io::ErrorKind::AlreadyExists.into()),
        Err(_) => std::fs::rename(temp, path),
    }
}
