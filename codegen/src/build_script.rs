//! Generation from a build script, the way tonic users generate: into `OUT_DIR`, included with
//! `tacos_runtime::include_contract!()`.
//!
//! ```no_run
//! // build.rs
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     tacos_codegen::configure()
//!         .rules("http-rules.yaml")
//!         .compile(&["greeter/v1/greeter.proto"], &["proto"])?;
//!     Ok(())
//! }
//! ```
//!
//! The output is the same as `cargo xtask generate` writes, and cargo reruns the build script
//! when a loaded `.proto` file or the rules file changes.

use std::path::{Path, PathBuf};

use crate::generate::{generate, GenerateConfig, GenerateError};

/// The folder under `OUT_DIR` that [`Builder::compile`] writes to, and `include_contract!`
/// reads from.
pub const OUT_SUBDIR: &str = "tacos";

/// A build-script generation run; start one with [`configure`].
#[derive(Debug, Clone, Default)]
pub struct Builder {
    rules: Option<PathBuf>,
    runtime_path: Option<String>,
    out_dir: Option<PathBuf>,
}

/// A build-script generation run with no rules file, `::tacos_runtime`, and `$OUT_DIR/tacos`.
pub fn configure() -> Builder {
    Builder::default()
}

impl Builder {
    /// The YAML rules file for methods without `google.api.http` annotations.
    #[must_use]
    pub fn rules(mut self, path: impl AsRef<Path>) -> Self {
        self.rules = Some(path.as_ref().to_owned());
        self
    }

    /// How generated code names the runtime crate (default `::tacos_runtime`).
    #[must_use]
    pub fn runtime_path(mut self, path: impl Into<String>) -> Self {
        self.runtime_path = Some(path.into());
        self
    }

    /// Where to write (default `$OUT_DIR/tacos`).
    #[must_use]
    pub fn out_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.out_dir = Some(dir.as_ref().to_owned());
        self
    }

    /// Generates `files` (paths under a root, or import names; empty for every file under the
    /// roots), searching `roots` for them and their imports. Relative paths are taken from the
    /// crate's manifest directory, where cargo runs build scripts.
    pub fn compile(
        self,
        files: &[impl AsRef<Path>],
        roots: &[impl AsRef<Path>],
    ) -> Result<(), GenerateError> {
        let mut config = GenerateConfig::new(roots.iter().map(|r| r.as_ref().to_owned()).collect());
        config.files = files.iter().map(|f| f.as_ref().to_owned()).collect();
        config.rules = self.rules;
        if let Some(path) = self.runtime_path {
            config.runtime_path = path;
        }
        let generated = generate(&config)?;
        let out_dir =
            match self.out_dir {
                Some(dir) => dir,
                None => PathBuf::from(std::env::var_os("OUT_DIR").ok_or_else(|| {
                    GenerateError::Write {
                        path: PathBuf::from("$OUT_DIR"),
                        source: std::io::Error::other(
                            "OUT_DIR is not set: call this from build.rs",
                        ),
                    }
                })?)
                .join(OUT_SUBDIR),
            };
        let write_error = |path: &Path| {
            let path = path.to_owned();
            move |source| GenerateError::Write { path, source }
        };
        std::fs::create_dir_all(&out_dir).map_err(write_error(&out_dir))?;
        for file in &generated.files {
            let path = out_dir.join(&file.path);
            // An unchanged file keeps its time stamp, so nothing downstream rebuilds.
            if std::fs::read(&path).ok().as_deref() != Some(file.contents.as_slice()) {
                std::fs::write(&path, &file.contents).map_err(write_error(&path))?;
            }
        }
        for source in generated.sources.iter().chain(config.rules.iter()) {
            println!("cargo:rerun-if-changed={}", source.display());
        }
        Ok(())
    }
}
