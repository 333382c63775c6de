//! Finding the contract's encoded descriptor set (`descriptor.bin`, which `cargo xtask generate`
//! writes next to the generated code).
//!
//! In order of precedence:
//! 1. `#[service(descriptors = "path")]`, relative to the crate's `CARGO_MANIFEST_DIR`;
//! 2. `[package.metadata.tacos] descriptors = "path"` in the crate's `Cargo.toml`, relative to it;
//! 3. the `TACOS_DESCRIPTORS` environment variable, relative to `CARGO_MANIFEST_DIR`.

use std::path::{Path, PathBuf};

use proc_macro2::Span;
use syn::LitStr;

/// The environment variable consulted last.
pub(crate) const DESCRIPTORS_VAR: &str = "TACOS_DESCRIPTORS";

/// What the macro knows about the crate being compiled.
#[derive(Clone, Debug, Default)]
pub(crate) struct Environment {
    /// `CARGO_MANIFEST_DIR` of the crate being compiled.
    pub(crate) manifest_dir: Option<PathBuf>,
    /// The value of [`DESCRIPTORS_VAR`].
    pub(crate) descriptors_var: Option<String>,
}

impl Environment {
    /// The environment of the running compiler.
    pub(crate) fn from_process() -> Self {
        Self {
            manifest_dir: std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from),
            descriptors_var: std::env::var(DESCRIPTORS_VAR)
                .ok()
                .filter(|v| !v.is_empty()),
        }
    }
}

/// The descriptor set's absolute path; the error spans `attr_path` when that was the source.
pub(crate) fn locate_descriptors(
    attr_path: Option<&LitStr>,
    env: &Environment,
) -> syn::Result<PathBuf> {
    let manifest_dir = env.manifest_dir.as_deref();
    if let Some(lit) = attr_path {
        return Ok(resolve(manifest_dir, &lit.value()));
    }
    if let Some(dir) = manifest_dir {
        let manifest = dir.join("Cargo.toml");
        if let Ok(text) = std::fs::read_to_string(&manifest) {
            if let Some(path) = metadata_descriptors(&text) {
                return Ok(resolve(Some(dir), &path));
            }
        }
    }
    if let Some(value) = &env.descriptors_var {
        return Ok(resolve(manifest_dir, value));
    }
    Err(syn::Error::new(
        Span::call_site(),
        "cannot tell where the contract's descriptor set is: add `descriptors = \"path/to/descriptor.bin\"` \
         to `#[service(...)]`, or `descriptors = \"...\"` under `[package.metadata.tacos]` in Cargo.toml \
         (the file `cargo xtask generate` writes next to the generated code), \
         or set TACOS_DESCRIPTORS",
    ))
}

fn resolve(base: Option<&Path>, path: &str) -> PathBuf {
    let path = Path::new(path);
    match base {
        Some(base) if path.is_relative() => base.join(path),
        _ => path.to_owned(),
    }
}

/// `descriptors` from `[package.metadata.tacos]` (or `tacos.descriptors` under
/// `[package.metadata]`).
///
/// A full TOML parser would be a heavy dependency for one key; this reads the forms Cargo.toml
/// files use for it: a table header, then `key = "basic"` or `key = 'literal'` strings.
fn metadata_descriptors(manifest: &str) -> Option<String> {
    let mut table = String::new();
    for line in manifest.lines() {
        let line = strip_comment(line).trim();
        if let Some(header) = line.strip_prefix('[') {
            table = header.trim_end_matches(']').replace([' ', '\t'], "");
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = key.replace([' ', '\t'], "");
        let wanted = (table == "package.metadata.tacos" && key == "descriptors")
            || (table == "package.metadata" && key == "tacos.descriptors");
        if wanted {
            return toml_string(value.trim());
        }
    }
    None
}

/// The line without a trailing `#` comment (a `#` inside a string is kept).
fn strip_comment(line: &str) -> &str {
    let mut quote = None;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') => return &line[..i],
            _ => {}
        }
    }
    line
}

/// A TOML basic (`"..."`, with `\\` and `\"` escapes) or literal (`'...'`) string.
fn toml_string(value: &str) -> Option<String> {
    if let Some(rest) = value.strip_prefix('\'') {
        return rest.strip_suffix('\'').map(str::to_owned);
    }
    let rest = value.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next()? {
                '\\' => out.push('\\'),
                '"' => out.push('"'),
                _ => return None,
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_package_metadata() {
        let manifest = r#"
[package]
name = "gateway" # descriptors = "not this"

[package.metadata.tacos]
# where the contracts are
descriptors = "../contracts/src/generated/descriptor.bin" # generated
"#;
        assert_eq!(
            metadata_descriptors(manifest).as_deref(),
            Some("../contracts/src/generated/descriptor.bin")
        );
        let dotted = "[package.metadata]\ntacos.descriptors = 'a\\b.bin'\n";
        assert_eq!(metadata_descriptors(dotted).as_deref(), Some("a\\b.bin"));
        assert_eq!(
            metadata_descriptors("[package]\ndescriptors = \"x\"\n"),
            None
        );
    }

    #[test]
    fn precedence_is_attribute_then_manifest_then_variable() {
        let env = Environment {
            manifest_dir: Some(PathBuf::from("/crate")),
            descriptors_var: Some("from/var.bin".into()),
        };
        let lit = LitStr::new("from/attr.bin", Span::call_site());
        assert_eq!(
            locate_descriptors(Some(&lit), &env).unwrap(),
            PathBuf::from("/crate/from/attr.bin")
        );
        // `/crate/Cargo.toml` does not exist, so the variable is next.
        assert_eq!(
            locate_descriptors(None, &env).unwrap(),
            PathBuf::from("/crate/from/var.bin")
        );
        let err = locate_descriptors(None, &Environment::default()).unwrap_err();
        assert!(err.to_string().contains("[package.metadata.tacos]"));
    }
}
