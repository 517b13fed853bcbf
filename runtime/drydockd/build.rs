//! Records what `docker version` reports of this build: the compiler that built it
//! (`DRYDOCK_RUSTC_VERSION`, from `$RUSTC --version`) and the commit it was built from
//! (`DRYDOCK_GIT_COMMIT`, from `git rev-parse --short=7 HEAD`, unless set by the builder).
//! Either is left unset when it cannot be found (no git, not a checkout).

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=DRYDOCK_GIT_COMMIT");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    if let Some(version) = output_of(&rustc, &["--version"]) {
        // "rustc 1.95.0 (59807616e 2026-04-14)": the version word.
        if let Some(number) = version.split_whitespace().nth(1) {
            println!("cargo:rustc-env=DRYDOCK_RUSTC_VERSION={number}");
        }
    }
    if std::env::var_os("DRYDOCK_GIT_COMMIT").is_none()
        && let Some(commit) = output_of("git", &["rev-parse", "--short=7", "HEAD"])
    {
        println!("cargo:rustc-env=DRYDOCK_GIT_COMMIT={commit}");
        // A new commit changes HEAD's target (or HEAD itself on a detached checkout).
        for path in ["HEAD", "logs/HEAD"] {
            if let Some(file) = output_of("git", &["rev-parse", "--git-path", path]) {
                println!("cargo:rerun-if-changed={file}");
            }
        }
    }
}

/// The trimmed standard output of a command that succeeded.
fn output_of(program: &str, args: &[&str]) -> Option<String> {
    let output = Command::new(program).args(args).output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    (output.status.success() && !text.trim().is_empty()).then(|| text.trim().to_owned())
}
