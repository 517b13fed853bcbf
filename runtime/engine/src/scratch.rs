//! Private folders for the unit tests, removed on drop.

use std::path::{Path, PathBuf};

use crate::volumes::VolumeStore;

/// A folder of its own under the temporary folder, named after the test, the process and the
/// thread, removed with everything in it on drop.
pub(crate) struct ScratchDir(PathBuf);

impl ScratchDir {
    /// A new, empty folder.
    pub(crate) fn new(name: &str) -> ScratchDir {
        let dir = std::env::temp_dir().join(format!(
            "drydock-engine-{name}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a scratch folder");
        ScratchDir(dir)
    }

    /// The folder.
    pub(crate) fn path(&self) -> &Path {
        &self.0
    }

    /// A volume store in `volumes/` of the folder.
    pub(crate) fn volume_store(&self) -> VolumeStore {
        VolumeStore::open(self.0.join("volumes")).expect("the volume store opens")
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
