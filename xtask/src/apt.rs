//! Installing what the tests need from Debian's packages, when it is missing.

use std::process::{Command, Stdio};

use anyhow::bail;

/// Makes sure every one of `programs` runs, installing `packages` with apt-get (as root) when
/// one does not.
pub(crate) fn ensure(programs: &[&str], packages: &[&str]) -> anyhow::Result<()> {
    let present = |program: &str| {
        Command::new(program)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    };
    if programs.iter().all(|p| present(p)) {
        return Ok(());
    }
    let install = format!("apt-get install -y {}", packages.join(" "));
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false);
    if !is_root {
        bail!(
            "{} not installed; install with `sudo {install}`",
            programs.join(", ")
        );
    }
    eprintln!("xtask: {install}");
    let mut install_args = vec!["install", "-y"];
    install_args.extend_from_slice(packages);
    for args in [vec!["update"], install_args] {
        let status = Command::new("apt-get")
            .args(&args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()?;
        if !status.success() {
            bail!(
                "`apt-get {}` failed; install by hand: `{install}`",
                args.join(" ")
            );
        }
    }
    Ok(())
}
