//! `cargo xtask diff`: the spec-diff report between two versions of the Docker
//! API, or between two API documents.

use std::path::{Path, PathBuf};

use clap::ValueEnum;
use drydock_diff::{DiffOptions, Links, diff};
use drydock_ir::ApiVersion;

/// A report format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One JSON document with one entry per change.
    Json,
    /// A Markdown changelog, one section per area.
    Md,
    /// A self-contained HTML page with filters.
    Html,
}

/// Arguments of `cargo xtask diff`.
#[derive(clap::Args, Debug)]
pub struct DiffArgs {
    /// The older Docker API version (`1.24`), or the label of `--from-spec`.
    #[arg(long)]
    pub from: Option<String>,
    /// The newer Docker API version (`1.25`), or the label of `--to-spec`.
    #[arg(long)]
    pub to: Option<String>,
    /// An older Swagger 2.0 / OpenAPI 3.0 document, compared with `--to-spec`
    /// instead of the Docker specs.
    #[arg(long, requires = "to_spec")]
    pub from_spec: Option<PathBuf>,
    /// The newer document compared with `--from-spec`.
    #[arg(long, requires = "from_spec")]
    pub to_spec: Option<PathBuf>,
    /// Where the upstream Docker specs are, when not in the default places.
    #[arg(long, conflicts_with = "from_spec")]
    pub specs_dir: Option<PathBuf>,
    /// The report's format.
    #[arg(long, value_enum, default_value = "md")]
    pub format: Format,
    /// Write the report to this file instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Attach each changed item's description to its change.
    #[arg(long)]
    pub descriptions: bool,
}

/// The label of a document: `--from`/`--to` when given, else its file stem.
fn label(given: Option<&String>, path: &Path) -> String {
    given.cloned().unwrap_or_else(|| {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string())
    })
}

/// Runs `cargo xtask diff`.
pub fn run(args: DiffArgs) -> Result<(), String> {
    let (api, from, to) = match (&args.from_spec, &args.to_spec) {
        (Some(from_spec), Some(to_spec)) => {
            let from = label(args.from.as_ref(), from_spec);
            let to = label(args.to.as_ref(), to_spec);
            if from == to {
                return Err(format!(
                    "both documents are labelled {from}; name them with --from and --to"
                ));
            }
            let paths = [from_spec.clone(), to_spec.clone()];
            let labels = [from.clone(), to.clone()];
            let api = drydock_spec::api_from_files(&paths, Some(&labels))
                .map_err(|e| {
                    format!(
                        "loading {} and {}: {e}",
                        from_spec.display(),
                        to_spec.display()
                    )
                })?
                .api;
            (api, ApiVersion::new(from), ApiVersion::new(to))
        }
        _ => {
            let (Some(from), Some(to)) = (&args.from, &args.to) else {
                return Err(
                    "give --from and --to (Docker API versions), or --from-spec and --to-spec"
                        .into(),
                );
            };
            let api = drydock_spec::docker_api(args.specs_dir.as_deref(), &crate::workspace_root())
                .map_err(|e| format!("loading the Docker API specs: {e}"))?
                .api;
            let from = ApiVersion::new(from.trim_start_matches('v'));
            let to = ApiVersion::new(to.trim_start_matches('v'));
            for v in [&from, &to] {
                if !api.versions.contains(v) {
                    let known: Vec<String> = api.versions.iter().map(ToString::to_string).collect();
                    return Err(format!(
                        "no Docker API version {v}; known: {}",
                        known.join(", ")
                    ));
                }
            }
            (api, from, to)
        }
    };
    let options = DiffOptions {
        descriptions: args.descriptions,
    };
    let report = diff(&api, &from, &to, &options);
    let text = match args.format {
        Format::Json => report.to_json(),
        Format::Md => report.to_markdown(),
        Format::Html => report.to_html(&Links::default()),
    };
    match &args.out {
        Some(path) => {
            std::fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))
        }
        None => {
            print!("{text}");
            Ok(())
        }
    }
}
