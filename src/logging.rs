//! Logging to stderr via `tracing`, journald-friendly. When stderr is the
//! journal's stream (`JOURNAL_STREAM` names stderr's device and inode, as
//! systemd sets it for `StandardError=journal`), each line starts with its
//! sd-daemon(3) priority (`<3>` error, `<4>` warning, `<6>` info, `<7>`
//! debug and trace), so `journalctl -p warning` and syslog filters see our
//! warnings as warnings, and carries no timestamp, since the journal adds
//! its own. `RUST_LOG` overrides the configured level.

use std::fmt;
use std::io::IsTerminal;
use std::os::fd::AsRawFd;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

pub fn init(level: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    // Colours only for a person at a terminal, never into files or the journal.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false);
    let result = if stderr_is_journal() {
        let format = tracing_subscriber::fmt::format()
            .with_target(false)
            .with_ansi(false)
            .without_time();
        builder.event_format(JournalPriority(format)).try_init()
    } else {
        builder.try_init()
    };
    // A second init (tests) keeps the first subscriber.
    let _ = result;
}

/// Whether `JOURNAL_STREAM` ("DEVICE:INODE") is the file stderr is open on:
/// a service whose stderr was redirected elsewhere inherits the variable,
/// and prefixes would then be noise.
fn stderr_is_journal() -> bool {
    let Some(stream) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    // SAFETY: `stat` is plain old data that fstat(2) fills on success.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(std::io::stderr().as_raw_fd(), &mut st) } != 0 {
        return false;
    }
    stream.to_str().and_then(parse_journal_stream) == Some((st.st_dev, st.st_ino))
}

/// `JOURNAL_STREAM`'s "DEVICE:INODE", both decimal.
fn parse_journal_stream(value: &str) -> Option<(u64, u64)> {
    let (dev, ino) = value.split_once(':')?;
    Some((dev.parse().ok()?, ino.parse().ok()?))
}

/// The sd-daemon(3) prefix of a level.
fn priority_prefix(level: Level) -> &'static str {
    match level {
        Level::ERROR => "<3>",
        Level::WARN => "<4>",
        Level::INFO => "<6>",
        Level::DEBUG | Level::TRACE => "<7>",
    }
}

/// Writes the event's priority prefix, then the event as `F` formats it.
struct JournalPriority<F>(F);

impl<S, N, F> FormatEvent<S, N> for JournalPriority<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        writer.write_str(priority_prefix(*event.metadata().level()))?;
        self.0.format_event(ctx, writer, event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    /// A `MakeWriter` collecting everything written into one buffer.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
        type Writer = Captured;
        fn make_writer(&'a self) -> Captured {
            self.clone()
        }
    }

    #[test]
    fn each_line_starts_with_its_journal_priority() {
        let captured = Captured::default();
        let format = tracing_subscriber::fmt::format()
            .with_target(false)
            .with_ansi(false)
            .without_time();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(Level::TRACE)
            .with_writer(captured.clone())
            .event_format(JournalPriority(format))
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::error!("e1");
            tracing::warn!(tunnel = "vti0", "w1");
            tracing::info!("i1");
            tracing::debug!("d1");
            tracing::trace!("t1");
        });
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "<3>ERROR e1",
                "<4> WARN w1 tunnel=\"vti0\"",
                "<6> INFO i1",
                "<7>DEBUG d1",
                "<7>TRACE t1",
            ]
        );
    }

    #[test]
    fn journal_stream_names_device_and_inode() {
        assert_eq!(parse_journal_stream("8:1234567"), Some((8, 1234567)));
        assert_eq!(parse_journal_stream("0:0"), Some((0, 0)));
        assert_eq!(parse_journal_stream("8"), None);
        assert_eq!(parse_journal_stream("8:x"), None);
        assert_eq!(parse_journal_stream(":5"), None);
    }
}
