//! What the GUI is started with (`esm-workbench gui ...` turns its flags into these).

use std::path::PathBuf;

/// The GUI's launch options.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LaunchOptions {
    /// Open this checkpoint at start.
    pub model: Option<PathBuf>,
    /// Open this FASTA at start (default: the bundled demo set).
    pub fasta: Option<PathBuf>,
    /// Metadata table joined onto `fasta`.
    pub metadata: Option<PathBuf>,
    /// Drive the demo tour, saving a screenshot of each view into this folder, then close.
    pub tour: Option<PathBuf>,
    /// Feature-store folder of the studies (default: the session's).
    pub store: Option<PathBuf>,
    /// Folder for outputs saved under a bare name (default: the session's).
    pub outputs: Option<PathBuf>,
}
