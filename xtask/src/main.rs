//! drydock's build tasks: `cargo xtask codegen | generate | diff | test | bench`.

mod bench;
mod codegen;
mod diff;
mod test;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// drydock's build tasks.
#[derive(Parser)]
#[command(name = "cargo xtask", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Load, derive and merge the Docker API specs v1.23..v1.33 and write everything under generated/.
    Codegen(codegen::CodegenArgs),
    /// Run the generator on one Swagger 2.0 / OpenAPI 3.0 document.
    Generate(codegen::GenerateArgs),
    /// Install what the tests need when it is missing, then run every test.
    Test(test::TestArgs),
    /// Report what changed between two versions of the Docker API, or two API documents.
    Diff(diff::DiffArgs),
    /// Measure things too slow for `cargo xtask test`: `bench models-build`, `bench client`,
    /// `bench server`, `bench progenitor`.
    Bench(bench::BenchArgs),
    /// The corpus of real public specs `generate` is tested on: `corpus fetch`, `corpus list`.
    Corpus(xtask::corpus::CorpusArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Codegen(args) => codegen::run(args),
        Command::Generate(args) => codegen::generate(args),
        Command::Test(args) => test::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Corpus(args) => xtask::corpus::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (the parent of `xtask/`).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask/ has a parent")
        .to_path_buf()
}
