//! drydockd's log: one line per record on stderr, `time level target: message`.

use std::io::Write;

use drydock_engine::timestamp::Timestamp;

/// Writes records at `level` and above to stderr.
struct StderrLog {
    level: log::LevelFilter,
}

impl log::Log for StderrLog {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= self.level
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let line = format!(
            "{} {:<5} {}: {}\n",
            Timestamp::now(),
            record.level(),
            record.target(),
            record.args()
        );
        // One write per line, so lines of concurrent tasks never interleave.
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }

    fn flush(&self) {
        let _ = std::io::stderr().flush();
    }
}

/// Installs the stderr log at `level`; a second call keeps the first log.
pub fn init(level: log::LevelFilter) {
    if log::set_boxed_logger(Box::new(StderrLog { level })).is_ok() {
        log::set_max_level(level);
    }
}
