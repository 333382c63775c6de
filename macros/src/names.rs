//! How contract names become Rust names, exactly as prost-build and the service emitter spell
//! them, and the closest-name suggestions of error messages.

use heck::{ToSnakeCase, ToUpperCamelCase};

/// The handler method name for an RPC (`GetQueueStats` → `get_queue_stats`), without any `r#`.
pub(crate) fn method_name(rpc: &str) -> String {
    let snake = rpc.to_snake_case();
    // prost-build cannot raw-escape these four, so it appends an underscore instead.
    match snake.as_str() {
        "self" | "super" | "crate" | "extern" => format!("{snake}_"),
        _ => snake,
    }
}

/// The method name as it must be written in source (`r#type` for keywords).
pub(crate) fn method_name_in_source(rpc: &str) -> String {
    let name = method_name(rpc);
    if is_keyword(&name) {
        format!("r#{name}")
    } else {
        name
    }
}

/// The Rust type name prost-build gives a message, by its full protobuf name: the last
/// component in upper camel case (nested messages live in a module named after their parent,
/// so the last path segment is all that identifies them). `google.protobuf.Empty` becomes `()`.
pub(crate) fn message_type_name(full_name: &str) -> String {
    let full_name = full_name.trim_start_matches('.');
    if full_name == "google.protobuf.Empty" {
        return "()".to_owned();
    }
    let last = full_name.rsplit('.').next().unwrap_or(full_name);
    let camel = last.to_upper_camel_case();
    if camel == "Self" {
        // `Self` cannot be a type name; prost-build appends an underscore.
        "Self_".to_owned()
    } else {
        camel
    }
}

/// The module prost-build puts a message's nested types in (`GetQueueStats` → `get_queue_stats`).
pub(crate) fn nested_module_name(message: &str) -> String {
    method_name_in_source(message)
}

fn is_keyword(name: &str) -> bool {
    const KEYWORDS: &[&str] = &[
        "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "do",
        "dyn", "else", "enum", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let",
        "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref", "return",
        "static", "struct", "trait", "true", "try", "type", "typeof", "unsafe", "unsized", "use",
        "virtual", "where", "while", "yield",
    ];
    KEYWORDS.contains(&name)
}

/// The candidate closest to `name`, if it is close enough to be a plausible typo.
pub(crate) fn closest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let name = name.to_lowercase();
    candidates
        .into_iter()
        .map(|candidate| (edit_distance(&name, &candidate.to_lowercase()), candidate))
        .filter(|(distance, candidate)| *distance <= candidate.chars().count().max(3) / 3)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// Levenshtein distance counted in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_names_follow_prost() {
        assert_eq!(method_name("GetQueueStats"), "get_queue_stats");
        assert_eq!(method_name("HealthCheck"), "health_check");
        assert_eq!(method_name_in_source("Type"), "r#type");
        assert_eq!(method_name_in_source("Self"), "self_");
    }

    #[test]
    fn message_names_follow_prost() {
        assert_eq!(
            message_type_name("gateway.v1.JoinQueueRequest"),
            "JoinQueueRequest"
        );
        assert_eq!(message_type_name(".shop.v1.Outer.Inner"), "Inner");
        assert_eq!(message_type_name("shop.v1.HTTPThing"), "HttpThing");
        assert_eq!(message_type_name("google.protobuf.Empty"), "()");
    }

    #[test]
    fn suggestions_are_close_names_only() {
        let candidates = ["join_queue", "leave_queue", "get_queue_stats"];
        assert_eq!(closest("join_queu", candidates), Some("join_queue"));
        assert_eq!(
            closest("get_queue_stat", candidates),
            Some("get_queue_stats")
        );
        assert_eq!(closest("frobnicate", candidates), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
