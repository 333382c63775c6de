//! JSON log lines, one per event, written without an intermediate value tree.
//!
//! The same lines `tracing-subscriber`'s JSON formatter writes with flattened events and the
//! current span: `timestamp` (RFC 3339, microseconds, UTC), `level`, the event's fields
//! (`message` among them), `target`, and `span` (the current span's fields and `name`). A
//! server logs a line per call, so this is on the hot path: a span's fields are rendered once
//! when it opens and copied into each line logged inside it, and each line is built in a
//! reused per-thread buffer and handed to the writer whole.

use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::io::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

/// The layer writing JSON lines to `W`.
pub(crate) struct JsonLines<W> {
    writer: W,
}

impl<W> JsonLines<W> {
    pub(crate) fn new(writer: W) -> Self {
        Self { writer }
    }
}

/// A span's fields as `"name":value` pairs, comma-separated, rendered when it opened (and
/// extended by later `record`s: a repeated name's last value is the one JSON readers keep).
struct SpanFields(String);

impl<S, W> Layer<S> for JsonLines<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let mut fields = String::new();
        attrs.record(&mut Fields::new(&mut fields));
        span.extensions_mut().insert(SpanFields(fields));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let mut extensions = span.extensions_mut();
        if let Some(SpanFields(fields)) = extensions.get_mut::<SpanFields>() {
            values.record(&mut Fields::new(fields));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        thread_local! {
            static LINE: RefCell<String> = RefCell::new(String::with_capacity(512));
        }
        let write = |line: &mut String| {
            line.clear();
            render(line, event, &ctx);
            let _ = self
                .writer
                .make_writer_for(event.metadata())
                .write_all(line.as_bytes());
        };
        LINE.with(|cell| match cell.try_borrow_mut() {
            Ok(mut line) => write(&mut line),
            // An event logged while formatting another (from a field's `Debug`): its own buffer.
            Err(_) => write(&mut String::new()),
        });
    }
}

/// One event as a JSON line (with its `\n`), appended to `line`.
fn render<S>(line: &mut String, event: &Event<'_>, ctx: &Context<'_, S>)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let metadata = event.metadata();
    line.push_str("{\"timestamp\":\"");
    write_timestamp(line, SystemTime::now());
    line.push_str("\",\"level\":\"");
    line.push_str(metadata.level().as_str());
    line.push('"');
    let mut fields = Fields::after_first(line);
    event.record(&mut fields);
    line.push_str(",\"target\":");
    push_string(line, metadata.target());
    if let Some(span) = ctx.event_span(event) {
        line.push_str(",\"span\":{");
        if let Some(SpanFields(fields)) = span.extensions().get::<SpanFields>() {
            if !fields.is_empty() {
                line.push_str(fields);
                line.push(',');
            }
        }
        line.push_str("\"name\":");
        push_string(line, span.name());
        line.push('}');
    }
    line.push_str("}\n");
}

/// Writes `"name":value` pairs, each preceded by a comma unless it is the first of a list.
struct Fields<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> Fields<'a> {
    /// Pairs that start a list.
    fn new(out: &'a mut String) -> Self {
        let first = out.is_empty();
        Self { out, first }
    }

    /// Pairs that continue an object already holding members.
    fn after_first(out: &'a mut String) -> Self {
        Self { out, first: false }
    }

    fn key(&mut self, field: &Field) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        push_string(self.out, field.name());
        self.out.push(':');
    }
}

impl Visit for Fields<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.key(field);
        if value.is_finite() {
            let _ = write!(self.out, "{value}");
        } else {
            // JSON has no NaN or infinity: their names, as strings.
            push_string(self.out, &value.to_string());
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.key(field);
        let _ = write!(self.out, "{value}");
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.key(field);
        let _ = write!(self.out, "{value}");
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.key(field);
        self.out.push_str(if value { "true" } else { "false" });
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.key(field);
        push_string(self.out, value);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.key(field);
        self.out.push('"');
        let _ = write!(Escaped(self.out), "{value:?}");
        self.out.push('"');
    }
}

/// `text` as a JSON string.
fn push_string(out: &mut String, text: &str) {
    out.push('"');
    let _ = Escaped(out).write_str(text);
    out.push('"');
}

/// Escapes what it is written as the inside of a JSON string.
struct Escaped<'a>(&'a mut String);

impl fmt::Write for Escaped<'_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        // Most text needs no escape; a check without early exit vectorizes.
        let needs_escape = text.bytes().fold(false, |any, b| {
            any | (b < 0x20) | (b == b'"') | (b == b'\\')
        });
        if !needs_escape {
            self.0.push_str(text);
            return Ok(());
        }
        let mut plain = 0;
        for (at, byte) in text.bytes().enumerate() {
            let escape = match byte {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                b'\n' => "\\n",
                b'\r' => "\\r",
                b'\t' => "\\t",
                0..=0x1f => "",
                _ => continue,
            };
            self.0.push_str(&text[plain..at]);
            if escape.is_empty() {
                let _ = write!(self.0, "\\u{byte:04x}");
            } else {
                self.0.push_str(escape);
            }
            plain = at + 1;
        }
        self.0.push_str(&text[plain..]);
        Ok(())
    }
}

/// `now` as `2026-12-02T16:35:49.123456Z`.
fn write_timestamp(out: &mut String, now: SystemTime) {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let seconds = since.as_secs();
    let (year, month, day) = civil_date((seconds / 86_400) as i64);
    let of_day = seconds % 86_400;
    let _ = write!(
        out,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60,
        since.subsec_micros()
    );
}

/// The proleptic Gregorian date `days` after 1970-01-01 (the civil-from-days algorithm).
fn civil_date(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn timestamps_are_rfc3339_in_utc() {
        let at = |secs: u64, micros: u32| {
            let mut out = String::new();
            write_timestamp(
                &mut out,
                UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_micros(micros.into()),
            );
            out
        };
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(at(951_782_400, 7), "2000-02-29T00:00:00.000007Z");
        assert_eq!(at(1_796_229_349, 123_456), "2026-12-02T16:35:49.123456Z");
        assert_eq!(at(4_107_542_399, 999_999), "2100-02-28T23:59:59.999999Z");
    }

    #[test]
    fn strings_are_escaped() {
        let mut out = String::new();
        push_string(&mut out, "a\"b\\c\nd\u{1}é");
        assert_eq!(out, r#""a\"b\\c\nd\u0001é""#);
        let parsed: String = serde_json::from_str(&out).unwrap();
        assert_eq!(parsed, "a\"b\\c\nd\u{1}é");
    }
}
