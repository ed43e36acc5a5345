//! A run's journal while its run goes: claimed by that run (created new,
//! its header already in it, locked) and told apart from a crashed run's
//! journal by that lock.
//!
//! The run holds an exclusive advisory lock (`flock`) on its journal from
//! before the journal appears under its name until the record is written
//! and the journal removed. The system drops the lock when the process
//! ends, however it ends (`kill -9` included), and no child process
//! inherits it (files are opened close-on-exec). So a journal whose lock
//! is held belongs to a run that is still going; one whose lock is free,
//! to a run that crashed. Nothing is guessed from process ids or times.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// Creates the journal `journal` holding `header` (one line), and returns
/// it open for appending, locked for as long as it (or a clone of it) is
/// open. The journal appears whole: it is written as a hidden temporary
/// file, locked, then linked under its name, so no reader ever sees it
/// without its header. It never replaces a file already there unless
/// `replace` is given (`--force`): two runs cannot share a journal.
/// `AlreadyExists` says the name is taken.
pub fn claim_journal(journal: &Path, header: &str, replace: bool) -> std::io::Result<File> {
    static CLAIMS: AtomicU64 = AtomicU64::new(0);
    let dir = super::atomic::parent_dir(journal);
    std::fs::create_dir_all(dir)?;
    let name = journal
        .file_name()
        .map_or("journal".into(), |n| n.to_string_lossy().into_owned());
    let temp = dir.join(format!(
        ".{name}.{}-{}.claim",
        std::process::id(),
        CLAIMS.fetch_add(1, Ordering::Relaxed)
    ));
    let mut file = File::create(&temp)?;
    let made = lock_exclusive(&file)
        .and_then(|()| file.write_all(header.as_bytes()))
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.flush())
        .and_then(|()| super::atomic::place(&temp, journal, replace));
    if made.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    made.map(|()| file)
}

/// Whether the run that writes `journal` is still going: its lock is held.
/// A journal that cannot be opened (it was just removed: the run finished)
/// is no live run's.
pub fn journal_is_live(journal: &Path) -> bool {
    let Ok(file) = File::open(journal) else {
        return false;
    };
    is_locked(&file)
}

#[cfg(unix)]
fn lock_exclusive(file: &File) -> std::io::Result<()> {
    use rustix::fs::{FlockOperation, flock};
    flock(file, FlockOperation::NonBlockingLockExclusive).map_err(std::io::Error::from)
}

#[cfg(unix)]
fn is_locked(file: &File) -> bool {
    use rustix::fs::{FlockOperation, flock};
    // A shared lock taken here is dropped with `file`.
    flock(file, FlockOperation::NonBlockingLockShared) == Err(rustix::io::Errno::WOULDBLOCK)
}

#[cfg(not(unix))]
fn lock_exclusive(_: &File) -> std::io::Result<()> {
    Ok(())
}

#[cfg(not(unix))]
fn is_locked(_: &File) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claimed_journal_is_live_until_closed_and_never_claimed_twice() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d-r.journal.jsonl");
        let file = claim_journal(&path, "{\"type\":\"run\"}", false).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"type\":\"run\"}\n"
        );
        assert!(journal_is_live(&path));
        let again = claim_journal(&path, "{}", false).unwrap_err();
        assert_eq!(again.kind(), std::io::ErrorKind::AlreadyExists);
        let clone = file.try_clone().unwrap();
        drop(file);
        assert!(journal_is_live(&path), "a clone keeps the lock");
        drop(clone);
        assert!(
            !journal_is_live(&path),
            "a closed journal is a crashed run's"
        );
        assert!(!journal_is_live(&dir.path().join("missing.journal.jsonl")));
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file is left: {names:?}");
        claim_journal(&path, "{}", true).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{}\n");
    }
}
