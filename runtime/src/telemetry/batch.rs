//! Log lines written to standard output in batches.
//!
//! A line per call written straight to a pipe costs a system call and a wake-up of the reader
//! for every request, more than formatting the line. Lines are gathered in memory instead and
//! written together when [`BATCH_BYTES`] have gathered, when [`BATCH_INTERVAL`] has passed
//! (a background thread), and on [`flush_logs`] (server shutdown). A process killed outright
//! loses at most the last interval's lines; a terminal gets every line at once instead.

use std::io::{self, Write};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// Gathered bytes that trigger a write at once.
pub(crate) const BATCH_BYTES: usize = 64 * 1024;
/// The longest a line waits in memory.
pub(crate) const BATCH_INTERVAL: Duration = Duration::from_millis(100);

/// Whole lines in arrival order, in front of `sink`.
pub(crate) struct Batched<W: Write> {
    state: Mutex<State<W>>,
}

struct State<W> {
    pending: Vec<u8>,
    sink: W,
}

impl<W: Write> Batched<W> {
    pub(crate) fn new(sink: W) -> Self {
        Self {
            state: Mutex::new(State {
                pending: Vec::with_capacity(BATCH_BYTES),
                sink,
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State<W>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds `line` (one formatted event); writes the batch when it is full.
    fn append(&self, line: &[u8]) {
        let mut state = self.state();
        state.pending.extend_from_slice(line);
        if state.pending.len() >= BATCH_BYTES {
            state.write_out();
        }
    }

    /// Writes whatever has gathered.
    pub(crate) fn flush(&self) {
        let mut state = self.state();
        if !state.pending.is_empty() {
            state.write_out();
        }
    }

    #[cfg(test)]
    pub(crate) fn into_sink(self) -> W {
        self.state
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
            .sink
    }
}

impl<W: Write> State<W> {
    fn write_out(&mut self) {
        // Logging has nowhere to report its own failure; a closed stdout drops the lines.
        let _ = self.sink.write_all(&self.pending);
        let _ = self.sink.flush();
        self.pending.clear();
    }
}

/// The writer handed to the formatter for one event.
pub(crate) struct BatchWriter<'a, W: Write>(&'a Batched<W>);

impl<W: Write> Write for BatchWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.append(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a, 'b, W: Write + 'b> MakeWriter<'a> for &'b Batched<W> {
    type Writer = BatchWriter<'b, W>;

    fn make_writer(&'a self) -> Self::Writer {
        BatchWriter(*self)
    }
}

static STDOUT: OnceLock<Batched<io::Stdout>> = OnceLock::new();

/// Standard output behind a batch, with its background flusher started on first use.
pub(crate) fn batched_stdout() -> &'static Batched<io::Stdout> {
    STDOUT.get_or_init(|| {
        let spawned = std::thread::Builder::new()
            .name("tacos-log-flush".into())
            .spawn(|| loop {
                std::thread::sleep(BATCH_INTERVAL);
                if let Some(batch) = STDOUT.get() {
                    batch.flush();
                }
            });
        if let Err(err) = spawned {
            eprintln!("log lines will be written at {BATCH_BYTES} bytes only: {err}");
        }
        Batched::new(io::stdout())
    })
}

/// Writes the log lines still gathered in memory to standard output. The server calls it when
/// it shuts down; call it before a process exits some other way.
pub fn flush_logs() {
    if let Some(batch) = STDOUT.get() {
        batch.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_wait_for_a_flush_or_a_full_batch_and_keep_their_order() {
        let batch = Batched::new(Vec::new());
        let mut writer = (&batch).make_writer();
        writer.write_all(b"one\n").unwrap();
        writer.write_all(b"two\n").unwrap();
        assert!(batch.state().sink.is_empty(), "written before a flush");
        batch.flush();
        assert_eq!(batch.state().sink, b"one\ntwo\n");

        let line = vec![b'x'; 1000];
        for _ in 0..BATCH_BYTES / 1000 + 1 {
            (&batch).make_writer().write_all(&line).unwrap();
        }
        let written = batch.state().sink.len();
        assert!(written > BATCH_BYTES, "a full batch is written at once");
        (&batch).make_writer().write_all(b"last\n").unwrap();
        batch.flush();
        let sink = batch.into_sink();
        assert!(sink.ends_with(b"xlast\n"));
        assert_eq!(sink.len(), 8 + (BATCH_BYTES / 1000 + 1) * 1000 + 5);
    }
}
