//! Writing the Prometheus text exposition format (version 0.0.4).
//!
//! Families are gathered by name first, so series of one family written by different parts of
//! the registry still come out under one `# HELP` / `# TYPE` header, as the format requires.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The `Content-Type` of [`Metrics::render`](super::Metrics::render)'s output.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The type of a metric family, as written on its `# TYPE` line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

struct FamilyText<'a> {
    help: &'a str,
    kind: Kind,
    body: String,
}

/// Sample lines collected per family, written out in name order.
#[derive(Default)]
pub(crate) struct Exposition<'a> {
    families: BTreeMap<&'a str, FamilyText<'a>>,
}

impl<'a> Exposition<'a> {
    /// The body of family `name`, created empty on first use.
    pub(crate) fn family(&mut self, name: &'a str, help: &'a str, kind: Kind) -> Family<'_> {
        let text = self.families.entry(name).or_insert_with(|| FamilyText {
            help,
            kind,
            body: String::new(),
        });
        Family {
            name,
            out: &mut text.body,
        }
    }

    /// The whole exposition; families without samples are left out.
    pub(crate) fn finish(self) -> String {
        let mut out =
            String::with_capacity(self.families.values().map(|f| f.body.len() + 96).sum());
        for (name, family) in self.families {
            if family.body.is_empty() {
                continue;
            }
            out.push_str("# HELP ");
            out.push_str(name);
            out.push(' ');
            escape_help(&mut out, family.help);
            out.push_str("\n# TYPE ");
            out.push_str(name);
            out.push(' ');
            out.push_str(family.kind.as_str());
            out.push('\n');
            out.push_str(&family.body);
        }
        out
    }
}

/// Writes the samples of one family.
pub(crate) struct Family<'a> {
    name: &'a str,
    out: &'a mut String,
}

/// A sample value.
#[derive(Clone, Copy)]
pub(crate) enum Value {
    Int(u64),
    Signed(i64),
    Float(f64),
}

impl Family<'_> {
    /// One sample line: `name{labels} value`.
    pub(crate) fn sample(&mut self, labels: &[(&str, &str)], value: Value) {
        self.line("", labels, None, value);
    }

    /// One line of a histogram: `name_suffix{labels,le="bound"} value`.
    pub(crate) fn line(
        &mut self,
        suffix: &str,
        labels: &[(&str, &str)],
        le: Option<f64>,
        value: Value,
    ) {
        let out = &mut *self.out;
        out.push_str(self.name);
        out.push_str(suffix);
        if !labels.is_empty() || le.is_some() {
            out.push('{');
            let mut first = true;
            for (name, value) in labels {
                if !first {
                    out.push(',');
                }
                first = false;
                out.push_str(name);
                out.push_str("=\"");
                escape_label_value(out, value);
                out.push('"');
            }
            if let Some(le) = le {
                if !first {
                    out.push(',');
                }
                out.push_str("le=\"");
                write_float(out, le);
                out.push('"');
            }
            out.push('}');
        }
        out.push(' ');
        match value {
            Value::Int(v) => {
                let _ = write!(out, "{v}");
            }
            Value::Signed(v) => {
                let _ = write!(out, "{v}");
            }
            Value::Float(v) => write_float(out, v),
        }
        out.push('\n');
    }

    /// The `_bucket`, `_sum` and `_count` lines of one histogram series. `counts` are the
    /// per-bucket (not cumulative) counts, one more than `bounds` for the `+Inf` bucket.
    pub(crate) fn histogram(
        &mut self,
        labels: &[(&str, &str)],
        bounds: impl Iterator<Item = f64>,
        counts: &[u64],
        sum: f64,
    ) {
        let mut cumulative = 0u64;
        for (bound, count) in bounds.zip(counts) {
            cumulative = cumulative.saturating_add(*count);
            self.line("_bucket", labels, Some(bound), Value::Int(cumulative));
        }
        // The last bucket is `+Inf`; the total is the same figure, so the two always agree.
        if let Some(last) = counts.last() {
            cumulative = cumulative.saturating_add(*last);
        }
        self.line(
            "_bucket",
            labels,
            Some(f64::INFINITY),
            Value::Int(cumulative),
        );
        self.line("_sum", labels, None, Value::Float(sum));
        self.line("_count", labels, None, Value::Int(cumulative));
    }
}

/// Label values escape backslash, double quote and line feed.
fn escape_label_value(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// Help text escapes backslash and line feed only.
fn escape_help(out: &mut String, help: &str) {
    for c in help.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// Floats as Prometheus reads them: `+Inf`, `-Inf`, `NaN`, otherwise the shortest exact form.
fn write_float(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v == f64::INFINITY {
        out.push_str("+Inf");
    } else if v == f64::NEG_INFINITY {
        out.push_str("-Inf");
    } else {
        let _ = write!(out, "{v}");
    }
}

/// Metric names: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub(crate) fn valid_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// Label names: `[a-zA-Z_][a-zA-Z0-9_]*`, without the reserved `__` prefix.
pub(crate) fn valid_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    !name.starts_with("__")
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_follow_the_format() {
        let mut out = String::new();
        escape_label_value(&mut out, "a\\b\"c\nd,e=f}");
        assert_eq!(out, r#"a\\b\"c\nd,e=f}"#);
        let mut out = String::new();
        escape_help(&mut out, "x \"y\"\n\\");
        assert_eq!(out, "x \"y\"\\n\\\\");
    }

    #[test]
    fn floats_and_names() {
        let mut out = String::new();
        for v in [0.0001, 1.0, 2.5, f64::INFINITY, f64::NEG_INFINITY, f64::NAN] {
            write_float(&mut out, v);
            out.push(' ');
        }
        assert_eq!(out, "0.0001 1 2.5 +Inf -Inf NaN ");
        assert!(valid_metric_name("tacos:requests_total"));
        assert!(
            !valid_metric_name("9lives") && !valid_metric_name("a-b") && !valid_metric_name("")
        );
        assert!(valid_label_name("_x1") && !valid_label_name("__name") && !valid_label_name("a:b"));
    }
}
