//! Loading `.proto` files with protox (no `protoc` needed) into a descriptor pool.
//!
//! The pool keeps what the plain `prost_types` descriptors drop: extension options such as
//! `google.api.http`, and source info, so comments survive into generated code and reflection.
//! Several include roots are searched in order, then the well-known types, then our own copies
//! of `google/api/http.proto`, `google/api/annotations.proto` and `google/api/httpbody.proto`
//! (only used when a contract imports them without shipping them).

use std::path::{Path, PathBuf};

use prost_reflect::DescriptorPool;
use protox::file::{
    ChainFileResolver, File, FileResolver, GoogleFileResolver, IncludeFileResolver,
};

/// The result of loading a set of contracts.
#[derive(Debug, Clone)]
pub struct LoadedContracts {
    /// Every file that was loaded, imports included, with options and source info.
    pub pool: DescriptorPool,
    /// The pool's files as an encoded `FileDescriptorSet` (imports and source info included).
    pub encoded_set: Vec<u8>,
    /// Every loaded file, dependencies before dependants.
    pub files: Vec<LoadedFile>,
}

/// One loaded file and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedFile {
    /// The import name, such as `gateway/v1/queue.proto`.
    pub name: String,
    /// The file on disk; `None` for the well-known types and the built-in fallbacks.
    pub path: Option<PathBuf>,
    /// Whether the file was asked for (as opposed to only imported).
    pub requested: bool,
}

impl LoadedFile {
    /// Whether the file belongs to the contract tree (found under an include root).
    pub fn is_from_roots(&self) -> bool {
        self.path.is_some()
    }
}

/// Contracts that could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// No include root was given.
    #[error("no proto root given")]
    NoRoots,
    /// No file was given and none was found under the roots.
    #[error("no .proto files given or found under {0}")]
    NoFiles(String),
    /// A root or file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The offending path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// protox rejected a file (syntax error, unknown import or type, ...).
    #[error("cannot compile contracts: {}", located(.0))]
    Compile(#[from] protox::Error),
}

/// Loads `files` (paths on disk under one of `roots`, or import names relative to a root),
/// searching `roots` for imports. With no files, every `.proto` file under the roots is loaded.
pub fn load_contracts(roots: &[PathBuf], files: &[PathBuf]) -> Result<LoadedContracts, LoadError> {
    if roots.is_empty() {
        return Err(LoadError::NoRoots);
    }
    let roots = roots
        .iter()
        .map(|root| {
            root.canonicalize().map_err(|source| LoadError::Io {
                path: root.clone(),
                source,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let files = if files.is_empty() {
        let mut found = Vec::new();
        for root in &roots {
            found.extend(find_proto_files(root)?);
        }
        if found.is_empty() {
            let names: Vec<String> = roots.iter().map(|r| r.display().to_string()).collect();
            return Err(LoadError::NoFiles(names.join(", ")));
        }
        found
    } else {
        // Paths that exist are made absolute so they resolve against the canonical roots;
        // anything else is taken as an import name.
        files
            .iter()
            .map(|f| f.canonicalize().unwrap_or_else(|_| f.clone()))
            .collect()
    };

    let mut resolver = ChainFileResolver::new();
    for root in &roots {
        resolver.add(IncludeFileResolver::new(root.clone()));
    }
    resolver.add(GoogleFileResolver::new());
    resolver.add(FallbackGoogleApi);

    let mut compiler = protox::Compiler::with_file_resolver(resolver);
    compiler.include_imports(true).include_source_info(true);
    compiler.open_files(&files)?;

    let loaded = compiler
        .files()
        .map(|meta| LoadedFile {
            name: meta.name().to_owned(),
            path: meta.path().map(Path::to_owned),
            requested: !meta.is_import(),
        })
        .collect();
    Ok(LoadedContracts {
        pool: compiler.descriptor_pool(),
        encoded_set: compiler.encode_file_descriptor_set(),
        files: loaded,
    })
}

/// Every `.proto` file under `dir`, sorted, so loading order (and output) is deterministic.
/// Hidden directories, `target` and `node_modules` are skipped.
pub fn find_proto_files(dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|source| LoadError::Io {
            path: dir.clone(),
            source,
        })?;
        for entry in entries {
            let path = entry
                .map_err(|source| LoadError::Io {
                    path: dir.clone(),
                    source,
                })?
                .path();
            if path.is_dir() {
                // A repository root used as include root (the upstream layout) also holds build
                // output and tool directories; their copies of `.proto` files are not contracts.
                let name = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default();
                if !name.starts_with('.') && name != "target" && name != "node_modules" {
                    pending.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "proto") {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Our own `google/api` definitions, searched last.
struct FallbackGoogleApi;

const FALLBACK_HTTP: &str = include_str!("../fallback/google/api/http.proto");
const FALLBACK_ANNOTATIONS: &str = include_str!("../fallback/google/api/annotations.proto");
const FALLBACK_HTTPBODY: &str = include_str!("../fallback/google/api/httpbody.proto");

impl FileResolver for FallbackGoogleApi {
    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        match name {
            "google/api/http.proto" => File::from_source(name, FALLBACK_HTTP),
            "google/api/annotations.proto" => File::from_source(name, FALLBACK_ANNOTATIONS),
            "google/api/httpbody.proto" => File::from_source(name, FALLBACK_HTTPBODY),
            _ => Err(protox::Error::file_not_found(name)),
        }
    }
}

/// protox's message prefixed with `file:line:column: ` where it knows them.
fn located(err: &protox::Error) -> String {
    use miette::Diagnostic;
    let Some(file) = err.file() else {
        return err.to_string();
    };
    let position = err
        .source_code()
        .zip(err.labels().and_then(|mut labels| labels.next()))
        .and_then(|(source, label)| source.read_span(label.inner(), 0, 0).ok())
        .map(|span| format!(":{}:{}", span.line() + 1, span.column() + 1))
        .unwrap_or_default();
    format!("{file}{position}: {err}")
}
