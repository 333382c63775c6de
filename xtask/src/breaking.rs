//! `cargo xtask breaking --against <git ref> [--allow FILE]`: the contracts of this repository
//! against the same contracts at another commit, on the wire and on REST.
//!
//! Each generation target's proto roots (and rules file) are taken from the ref with
//! `git archive` into `target/breaking/`, both versions are loaded and modelled as
//! `cargo xtask generate` does, and every break is listed (see `tacos_codegen::breaking`).
//! Breaks named in the allow-list (default `breaking-allow.txt` at the repository root, when
//! present; one `KIND subject` key per line, `#` comments) pass; the task fails on any other.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use tacos_codegen::breaking::{apply_allow_list, breaking_changes};
use tacos_codegen::generate::load_model;

use crate::generate::{repository_targets, Target};
use crate::workspace_root;

const USAGE: &str = "usage: cargo xtask breaking --against <git ref> [--allow FILE]";

/// Runs the check.
pub(crate) fn run(args: &[String]) -> Result<()> {
    let mut against = None;
    let mut allow = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--against" => against = args.next().cloned(),
            "--allow" => allow = args.next().map(PathBuf::from),
            "--help" | "-h" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => bail!("unknown argument `{other}`\n{USAGE}"),
        }
    }
    let Some(against) = against else {
        bail!("--against <git ref> is required\n{USAGE}");
    };
    let root = workspace_root();
    let allow_path = allow.unwrap_or_else(|| root.join("breaking-allow.txt"));
    let allow_text = match std::fs::read_to_string(&allow_path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(err) => return Err(err).with_context(|| format!("reading {}", allow_path.display())),
    };
    let scratch = root.join("target/breaking");
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch)?;
    let mut breaks = Vec::new();
    for target in repository_targets(&root) {
        let Some(old_target) = at_ref(&root, &target, &against, &scratch)? else {
            eprintln!(
                "xtask: {} did not exist at {against}; nothing to compare",
                relative(&root, &target.proto_roots[0]).display()
            );
            continue;
        };
        let old = load_model(&old_target.config())
            .with_context(|| format!("loading the contracts at {against}"))?;
        let new = load_model(&target.config()).context("loading the contracts")?;
        breaks.extend(breaking_changes((&old.0, &old.1), (&new.0, &new.1)));
    }
    breaks.sort();
    breaks.dedup();
    let (remaining, stale) = apply_allow_list(breaks, &allow_text);
    for key in &stale {
        eprintln!("xtask: allow-list entry matches nothing (remove it?): {key}");
    }
    if remaining.is_empty() {
        println!("no breaking changes against {against}");
        return Ok(());
    }
    for found in &remaining {
        println!("{found}");
    }
    bail!(
        "{} breaking change(s) against {against}; allow intended ones in {}",
        remaining.len(),
        relative(&root, &allow_path).display()
    )
}

fn relative<'a>(root: &Path, path: &'a Path) -> &'a Path {
    path.strip_prefix(root).unwrap_or(path)
}

/// `target` as it was at `git_ref`, extracted under `scratch`; `None` when its roots did not
/// exist then.
fn at_ref(root: &Path, target: &Target, git_ref: &str, scratch: &Path) -> Result<Option<Target>> {
    let dir = scratch.join(scratch_name(root, target));
    std::fs::create_dir_all(&dir)?;
    let mut paths: Vec<&Path> = target
        .proto_roots
        .iter()
        .map(|p| relative(root, p))
        .collect();
    if let Some(rules) = &target.rules {
        paths.push(relative(root, rules));
    }
    for path in &paths {
        let exists = Command::new("git")
            .args(["cat-file", "-e"])
            .arg(format!("{git_ref}:{}", path.display()))
            .stderr(std::process::Stdio::null())
            .current_dir(root)
            .status()
            .context("running git")?
            .success();
        if !exists {
            return Ok(None);
        }
    }
    let archive = Command::new("git")
        .args(["archive", "--format=tar", git_ref, "--"])
        .args(&paths)
        .current_dir(root)
        .output()
        .context("running git archive")?;
    if !archive.status.success() {
        bail!(
            "git archive {git_ref} failed: {}",
            String::from_utf8_lossy(&archive.stderr).trim()
        );
    }
    let mut tar = Command::new("tar")
        .args(["-x", "-C"])
        .arg(&dir)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .context("running tar")?;
    std::io::Write::write_all(tar.stdin.as_mut().context("tar's input")?, &archive.stdout)?;
    drop(tar.stdin.take());
    if !tar.wait()?.success() {
        bail!("unpacking the contracts at {git_ref} failed");
    }
    let moved = |p: &PathBuf| dir.join(relative(root, p));
    Ok(Some(Target {
        proto_roots: target.proto_roots.iter().map(moved).collect(),
        files: target.files.iter().map(moved).collect(),
        rules: target.rules.as_ref().map(moved),
        out: target.out.clone(),
    }))
}

/// A folder name per target: its output folder is unique among the targets.
fn scratch_name(root: &Path, target: &Target) -> String {
    relative(root, &target.out)
        .to_string_lossy()
        .replace(['/', '\\', ':'], "_")
}
