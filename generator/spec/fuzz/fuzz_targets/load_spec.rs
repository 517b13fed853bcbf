//! Feeds arbitrary bytes through the spec loader: text → tree → OpenAPI 3.0.
//! Any input may be rejected; none may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = drydock_spec::swagger2::parse_openapi3("fuzz-input", &text);
});
