//! The few command-line flags the two binaries take: `--name value` pairs and positionals.

use std::str::FromStr;

/// Parsed command-line arguments.
#[derive(Debug, Clone, Default)]
pub struct Args {
    positionals: Vec<String>,
    flags: Vec<(String, Option<String>)>,
}

/// A flag that is missing, unknown or malformed.
#[derive(Debug, thiserror::Error)]
pub enum ArgError {
    /// A value did not parse.
    #[error("invalid value `{value}` for `--{flag}`")]
    Invalid {
        /// The flag.
        flag: String,
        /// The value given.
        value: String,
    },
    /// A flag the binary does not know.
    #[error("unknown flag `--{0}`")]
    Unknown(String),
    /// A flag given without its value.
    #[error("`--{0}` needs a value")]
    MissingValue(String),
}

impl Args {
    /// Splits `args` (without the program name). `switches` are flags that take no value.
    pub fn parse(args: impl IntoIterator<Item = String>, switches: &[&str]) -> Self {
        let mut parsed = Args::default();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            match arg.strip_prefix("--") {
                Some(name) if switches.contains(&name) => {
                    parsed.flags.push((name.to_owned(), None))
                }
                Some(name) => parsed.flags.push((name.to_owned(), args.next())),
                None => parsed.positionals.push(arg),
            }
        }
        parsed
    }

    /// The positional arguments, in order.
    pub fn positionals(&self) -> &[String] {
        &self.positionals
    }

    /// Fails on a flag not in `known` (a missing value is reported by [`Args::value`]).
    pub fn check_known(&self, known: &[&str]) -> Result<(), ArgError> {
        for (name, _) in &self.flags {
            if !known.contains(&name.as_str()) {
                return Err(ArgError::Unknown(name.clone()));
            }
        }
        Ok(())
    }

    /// Whether the switch `name` was given.
    pub fn switch(&self, name: &str) -> bool {
        self.flags.iter().any(|(n, _)| n == name)
    }

    /// The last value of `--name`, parsed, or `default` when absent.
    pub fn value<T: FromStr>(&self, name: &str, default: T) -> Result<T, ArgError> {
        match self.flags.iter().rev().find(|(n, _)| n == name) {
            None => Ok(default),
            Some((_, None)) => Err(ArgError::MissingValue(name.to_owned())),
            Some((_, Some(value))) => value.parse().map_err(|_| ArgError::Invalid {
                flag: name.to_owned(),
                value: value.clone(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Args {
        Args::parse(s.split_whitespace().map(str::to_owned), &["quick"])
    }

    #[test]
    fn flags_switches_and_positionals() {
        let a = args("grpc 127.0.0.1:1 --in-flight 64 --quick --in-flight 8");
        assert_eq!(a.positionals(), ["grpc", "127.0.0.1:1"]);
        assert_eq!(a.value("in-flight", 1usize).unwrap(), 8);
        assert_eq!(a.value("duration", 2.5f64).unwrap(), 2.5);
        assert!(a.switch("quick"));
        assert!(a.check_known(&["in-flight", "quick"]).is_ok());
        assert!(a.check_known(&["quick"]).is_err());
    }

    #[test]
    fn bad_and_missing_values_are_errors() {
        assert!(args("--in-flight x").value("in-flight", 1usize).is_err());
        assert!(args("--in-flight").value("in-flight", 1usize).is_err());
    }
}
