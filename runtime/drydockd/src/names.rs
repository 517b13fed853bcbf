//! Container names: Docker's validity rule, and generated names in Docker's
//! `adjective_surname` form for containers created without one.

use drydock_runtime::server::ServerError;

/// Adjectives of generated names.
const ADJECTIVES: &[&str] = &[
    "agile", "amber", "ample", "ardent", "azure", "bold", "brave", "breezy", "bright", "brisk",
    "calm", "candid", "careful", "cheerful", "clever", "cosmic", "crisp", "curious", "daring",
    "deft", "eager", "earnest", "elated", "epic", "fervent", "festive", "fond", "frank", "gentle",
    "gleaming", "golden", "graceful", "hardy", "hearty", "humble", "jolly", "keen", "kind",
    "lively", "loyal", "lucid", "merry", "mellow", "mindful", "modest", "nimble", "noble",
    "patient", "placid", "plucky", "polite", "proud", "quiet", "quick", "radiant", "rapid",
    "serene", "sharp", "shiny", "silent", "sincere", "snappy", "solid", "spry", "steady", "stoic",
    "sunny", "swift", "tender", "tidy", "trusty", "vivid", "warm", "witty", "zealous",
];

/// Surnames of generated names: scientists and engineers.
const SURNAMES: &[&str] = &[
    "agnesi",
    "alhazen",
    "archimedes",
    "babbage",
    "banach",
    "bardeen",
    "bohr",
    "boole",
    "bose",
    "cantor",
    "carson",
    "cerf",
    "curie",
    "darwin",
    "dijkstra",
    "einstein",
    "euclid",
    "euler",
    "faraday",
    "fermat",
    "fermi",
    "feynman",
    "franklin",
    "galileo",
    "gauss",
    "germain",
    "goldberg",
    "hamilton",
    "hawking",
    "heisenberg",
    "hertz",
    "hopper",
    "hypatia",
    "johnson",
    "joliot",
    "kepler",
    "knuth",
    "kowalevski",
    "lamarr",
    "lamport",
    "leakey",
    "liskov",
    "lovelace",
    "maxwell",
    "meitner",
    "mendel",
    "mirzakhani",
    "morse",
    "napier",
    "newton",
    "noether",
    "pascal",
    "pasteur",
    "planck",
    "ritchie",
    "sammet",
    "shannon",
    "somerville",
    "tesla",
    "thompson",
    "torvalds",
    "turing",
    "volta",
    "wiles",
    "wozniak",
    "wright",
    "yalow",
    "zuse",
];

/// Whether `name` (without its leading `/`) is a valid container name: a letter or digit,
/// then at least one of letters, digits, `_`, `.`, `-`.
pub fn is_valid(name: &str) -> bool {
    let bytes = name.as_bytes();
    bytes.len() >= 2
        && bytes[0].is_ascii_alphanumeric()
        && bytes[1..]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// The name a user asked for, without its leading `/`, or Docker's 400 for an invalid one.
///
/// # Errors
///
/// A 400 with Docker's message when the name breaks the rule.
pub fn validate(requested: &str) -> Result<String, ServerError> {
    let name = requested.strip_prefix('/').unwrap_or(requested);
    if is_valid(name) {
        Ok(name.to_owned())
    } else {
        Err(ServerError::bad_request(format!(
            "Invalid container name ({requested}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
        )))
    }
}

/// A generated name, different for each `seed`: `adjective_surname`, with a number after
/// the first tries (`taken` says whether a candidate is in use).
pub fn generate(seed: u64, taken: impl Fn(&str) -> bool) -> String {
    let mut state = seed | 1;
    let mut next = move || {
        // xorshift64: cheap, and enough to spread names; they need not be unpredictable.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let pick = |list: &[&'static str], value: u64| list[(value % list.len() as u64) as usize];
    let mut attempt = 0_u32;
    loop {
        let mut name = format!("{}_{}", pick(ADJECTIVES, next()), pick(SURNAMES, next()));
        if attempt >= 10 {
            name.push_str(&(next() % 1000).to_string());
        }
        if !taken(&name) {
            return name;
        }
        attempt = attempt.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_dockers_rule() {
        for good in ["ab", "web-1", "a.b_c", "0x"] {
            assert!(is_valid(good), "{good}");
        }
        for bad in ["", "a", "-a", "_a", "a b", "a/b", "é1"] {
            assert!(!is_valid(bad), "{bad}");
        }
        assert_eq!(validate("/web").ok().as_deref(), Some("web"));
        assert!(validate("/").is_err());
    }

    #[test]
    fn generated_names_are_valid_and_avoid_taken_ones() {
        let first = generate(42, |_| false);
        assert!(is_valid(&first));
        assert!(first.contains('_'));
        let other = generate(42, |name| name == first);
        assert_ne!(other, first);
        assert!(is_valid(&other));
    }
}
