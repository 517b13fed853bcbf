//! Golden files of emitters that write several files, and the small
//! hand-built IR they are written from (`tests/client_golden/widgets.json`).
//!
//! A golden file holds the files one after another, each after a
//! `// ==== path ====` line. Run the tests with `DRYDOCK_BLESS=1` to rewrite
//! it after an intended change, then review the diff.

use std::path::Path;

use drydock_codegen::GeneratedFiles;
use drydock_ir::Api;

/// The widgets fixture: ten operations over three versions, with JSON and
/// byte bodies, lists, filters, streams and a hijacking operation.
pub fn widgets() -> Api {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/client_golden/widgets.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Text with white space runs collapsed, so checks do not depend on line breaks.
pub fn squeeze(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Fails, naming the first line that differs, unless `files` are what the
/// golden file at `path` holds; with `DRYDOCK_BLESS` set, writes them there.
pub fn check(path: &Path, files: &GeneratedFiles) {
    let mut actual = String::new();
    for (file, text) in files {
        actual.push_str(&format!("// ==== {} ====\n", file.display()));
        actual.push_str(text);
    }
    if std::env::var_os("DRYDOCK_BLESS").is_some() {
        std::fs::write(path, &actual).expect("golden file is writable");
        return;
    }
    let expected = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with DRYDOCK_BLESS=1)", path.display()));
    if expected != actual {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(e, a)| e != a)
            .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
        panic!(
            "{} is stale from line {}:\nexpected: {:?}\nactual:   {:?}\n(run with DRYDOCK_BLESS=1 to accept)",
            path.display(),
            line + 1,
            expected.lines().nth(line),
            actual.lines().nth(line)
        );
    }
}
