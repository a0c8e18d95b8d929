//! Atomic file output: write to a temporary file beside the target, flush, then rename.
//!
//! An interrupted run therefore never leaves a half-written result under its final name: either
//! the old file (or nothing) is there, or the complete new one. Temporary files are named
//! `.<name>.tmp-<pid>-<n>` in the target's folder (same file system, so the rename is atomic).
//!
//! ```
//! let dir = std::env::temp_dir().join(format!("rsei-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let p = dir.join("table.csv");
//! rsei_core::fsutil::write_atomic(&p, b"a,b\n1,2\n").unwrap();
//! assert_eq!(std::fs::read(&p).unwrap(), b"a,b\n1,2\n");
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A temporary path in the same folder as `target`, unique within this process.
pub fn temp_path_for(target: &Path) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = target.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    let ext = target.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
    // keep the extension last: some writers (GDAL) pick the format or options from it
    target.with_file_name(format!(".{name}.tmp-{}-{n}{ext}", std::process::id()))
}

/// Writes `bytes` to `path` atomically (temp file, fsync, rename). Creates missing parent folders.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    with_atomic(path, |tmp| {
        let mut f = File::create(tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })
}

/// Runs `produce` on a temporary path beside `path`, then renames the result into place.
/// On error the temporary file is removed and `path` is left untouched.
pub fn with_atomic<E: From<io::Error>>(path: &Path, produce: impl FnOnce(&Path) -> Result<(), E>) -> Result<(), E> {
    if let Some(parent) = path.parent() {
        if !parent.as_os_str().is_empty() {
            fs::create_dir_all(parent)?;
        }
    }
    let tmp = temp_path_for(path);
    match produce(&tmp) {
        Ok(()) => {
            if let Err(e) = fs::rename(&tmp, path) {
                let _ = fs::remove_file(&tmp);
                return Err(e.into());
            }
            Ok(())
        }
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_producer_leaves_nothing() {
        let dir = std::env::temp_dir().join(format!("rsei-fsutil-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let p = dir.join("x.json");
        let r: Result<(), io::Error> = with_atomic(&p, |tmp| {
            fs::write(tmp, b"half")?;
            Err(io::Error::other("interrupted"))
        });
        assert!(r.is_err());
        assert!(!p.exists());
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 0, "temp file must be removed");
        write_atomic(&p, b"{}").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"{}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
