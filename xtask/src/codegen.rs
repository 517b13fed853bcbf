//! `cargo xtask codegen` and `cargo xtask generate`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use drydock_spec::Built;

use crate::workspace_root;

/// Arguments of `cargo xtask codegen`.
#[derive(clap::Args)]
pub struct CodegenArgs {
    /// Fail, naming the files, when anything under generated/ is stale instead of writing it.
    #[arg(long)]
    pub check: bool,
    /// Folder holding the upstream specs (default: $DRYDOCK_SPECS_DIR, then ../shared/specs/docker).
    #[arg(long)]
    pub specs_dir: Option<PathBuf>,
}

/// Arguments of `cargo xtask generate`.
#[derive(clap::Args)]
pub struct GenerateArgs {
    /// A Swagger 2.0 or OpenAPI 3.0 document (YAML or JSON); repeat for several versions.
    #[arg(long, required = true)]
    pub spec: Vec<PathBuf>,
    /// Labels for the versions, in the order of `--spec` (default: each document's `info.version`).
    #[arg(long)]
    pub version_label: Vec<String>,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// Name of the crate to write.
    #[arg(long)]
    pub crate_name: String,
    /// Depend on the drydock-runtime crate at this path (default: this workspace's runtime/).
    #[arg(long, conflicts_with = "runtime_version")]
    pub runtime_path: Option<PathBuf>,
    /// Depend on this published version of drydock-runtime instead of a path.
    #[arg(long)]
    pub runtime_version: Option<String>,
}

/// Files the generator writes, relative to one folder, and the folders it owns
/// entirely (a file there that the generator no longer writes is stale).
#[derive(Default)]
pub struct Outputs {
    files: BTreeMap<PathBuf, String>,
    owned_dirs: Vec<PathBuf>,
}

impl Outputs {
    /// Adds the files of `dir` (all of which the generator owns).
    pub fn add_dir(&mut self, dir: impl Into<PathBuf>, files: BTreeMap<PathBuf, String>) {
        let dir = dir.into();
        for (path, text) in files {
            self.files.insert(dir.join(path), text);
        }
        self.owned_dirs.push(dir);
    }

    /// Writes every file that differs, and removes stale files of owned folders.
    pub fn write(&self, root: &Path) -> Result<usize, String> {
        let mut written = 0;
        for (path, text) in &self.files {
            let full = root.join(path);
            if std::fs::read_to_string(&full).ok().as_deref() == Some(text.as_str()) {
                continue;
            }
            if let Some(parent) = full.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| format!("{}: {e}", parent.display()))?;
            }
            std::fs::write(&full, text).map_err(|e| format!("{}: {e}", full.display()))?;
            written += 1;
        }
        for stale in self.stale_files(root) {
            std::fs::remove_file(root.join(&stale))
                .map_err(|e| format!("{}: {e}", stale.display()))?;
            written += 1;
        }
        Ok(written)
    }

    /// Every file that is missing, differs, or should not be there.
    pub fn differences(&self, root: &Path) -> Vec<String> {
        let mut out = Vec::new();
        for (path, text) in &self.files {
            match std::fs::read_to_string(root.join(path)) {
                Ok(on_disk) if &on_disk == text => {}
                Ok(_) => out.push(format!("{} is stale", path.display())),
                Err(_) => out.push(format!("{} is missing", path.display())),
            }
        }
        for stale in self.stale_files(root) {
            out.push(format!("{} should not exist", stale.display()));
        }
        out
    }

    fn stale_files(&self, root: &Path) -> Vec<PathBuf> {
        let mut stale = Vec::new();
        for dir in &self.owned_dirs {
            let mut stack = vec![root.join(dir)];
            while let Some(d) = stack.pop() {
                let Ok(entries) = std::fs::read_dir(&d) else {
                    continue;
                };
                for entry in entries.flatten() {
                    let path = entry.path();
                    if path.is_dir() {
                        // Build output of a generated crate is not generated source.
                        if path.file_name().is_some_and(|n| n == "target") {
                            continue;
                        }
                        stack.push(path);
                    } else if let Ok(rel) = path.strip_prefix(root)
                        && !self.files.contains_key(rel)
                    {
                        stale.push(rel.to_path_buf());
                    }
                }
            }
        }
        stale.sort();
        stale
    }
}

/// Runs `cargo xtask codegen`.
pub fn run(args: CodegenArgs) -> Result<(), String> {
    let root = workspace_root();
    let start = Instant::now();
    let built =
        drydock_spec::docker_api(args.specs_dir.as_deref(), &root).map_err(|e| e.to_string())?;
    print_table(&built);
    let outputs = docker_outputs(&built)?;
    finish(&outputs, &root, args.check, start)
}

/// Everything `cargo xtask codegen` writes for the Docker API.
pub fn docker_outputs(built: &Built) -> Result<Outputs, String> {
    let mut outputs = Outputs::default();
    let ir = serde_json::to_string_pretty(&built.api).map_err(|e| e.to_string())? + "\n";
    outputs.add_dir(
        "generated/ir",
        BTreeMap::from([(PathBuf::from("docker.json"), ir)]),
    );
    let models =
        drydock_codegen::emit_models(&built.api, "drydock-models").map_err(|e| e.to_string())?;
    outputs.add_dir("generated/models", models);
    let client =
        drydock_codegen::emit_client(&built.api, "drydock-client").map_err(|e| e.to_string())?;
    outputs.add_dir("generated/client", client);
    outputs.add_dir(
        "generated/server",
        drydock_codegen::emit_server(&built.api, "drydock-server").map_err(|e| e.to_string())?,
    );
    let crates = drydock_codegen::ContractCrates {
        contract: "drydock-contract",
        client: "drydock-client",
        server: "drydock-server",
    };
    outputs.add_dir(
        "generated/contract",
        drydock_codegen::emit_contract(&built.api, crates).map_err(|e| e.to_string())?,
    );
    outputs.add_dir("generated/diff", drydock_diff::reports(&built.api));
    Ok(outputs)
}

fn finish(outputs: &Outputs, root: &Path, check: bool, start: Instant) -> Result<(), String> {
    if check {
        let differences = outputs.differences(root);
        if !differences.is_empty() {
            return Err(format!(
                "generated files are not what `cargo xtask codegen` writes now:\n  {}\nrun `cargo xtask codegen` and commit the result",
                differences.join("\n  ")
            ));
        }
        println!("generated/ is up to date ({:.0?})", start.elapsed());
    } else {
        let written = outputs.write(root)?;
        println!(
            "wrote {written} file(s) under generated/ ({:.0?})",
            start.elapsed()
        );
    }
    Ok(())
}

fn print_table(built: &Built) {
    println!(
        "{:<8} {:>10} {:>6} {:>9}  source",
        "version", "operations", "types", "time"
    );
    for v in &built.versions {
        println!(
            "{:<8} {:>10} {:>6} {:>9.1?}  {}",
            v.version.as_str(),
            v.operations,
            v.types,
            v.time,
            v.file
        );
    }
    println!(
        "merged: {} operations, {} types over {} versions (load {:.1?}, merge {:.1?})",
        built.api.operations.len(),
        built.api.types.len(),
        built.api.versions.len(),
        built.load_time,
        built.merge_time
    );
    for (version, w) in &built.warnings {
        println!("warning: v{version} #{}: {}", w.pointer, w.message);
    }
}

/// Runs `cargo xtask generate`: writes a crate with the models, the client (feature
/// `client`) and the server (feature `server`) of the documents, a README and an example.
pub fn generate(args: GenerateArgs) -> Result<(), String> {
    use xtask::generate::{Options, RuntimeDep, generate_crate, write_files};
    let runtime = match (args.runtime_path, args.runtime_version) {
        (Some(path), _) => RuntimeDep::Path(
            std::path::absolute(&path).map_err(|e| format!("{}: {e}", path.display()))?,
        ),
        (None, Some(version)) => RuntimeDep::Version(version),
        (None, None) => RuntimeDep::workspace(),
    };
    let options = Options {
        crate_name: args.crate_name,
        labels: args.version_label,
        runtime,
    };
    let generated = generate_crate(&args.spec, &options)?;
    print_table(&generated.built);
    // print_table printed the normaliser's warnings; the rest are generate's own.
    let own = generated.warnings.len() - generated.built.warnings.len();
    for warning in &generated.warnings[..own] {
        println!("warning: {warning}");
    }
    let written = write_files(&generated.files, &args.out)?;
    println!(
        "wrote {written} of {} file(s) of crate {} under {} (load {:.1?}, emit {:.1?})",
        generated.files.len(),
        options.crate_name,
        args.out.display(),
        generated.load_time,
        generated.emit_time
    );
    Ok(())
}
