//! Finding the route for a request: unknown path → 404, known path with another method → 405.

use std::collections::HashMap;

use super::route::{HttpMethod, RouteSpec};

/// The outcome of routing one request.
#[derive(Debug)]
pub(crate) enum Routed<'r> {
    /// A route matched; its index and decoded variable values.
    Found(usize, Vec<String>),
    /// The path matched but a variable was not valid percent-encoding.
    BadPath(&'static str, &'static str),
    /// The path is known but not for this method; the methods that are.
    MethodNotAllowed(Vec<&'r str>),
    /// No route has this path.
    NotFound,
}

/// Routes indexed by their first literal segment, most specific first within each bucket.
#[derive(Debug, Default)]
pub(crate) struct Router {
    specs: Vec<&'static RouteSpec>,
    by_first: HashMap<&'static str, Vec<usize>>,
    /// Routes whose template starts with a wildcard; tried for every path, after the bucket.
    wild: Vec<usize>,
}

impl Router {
    pub(crate) fn new(specs: Vec<&'static RouteSpec>) -> Self {
        let mut order: Vec<usize> = (0..specs.len()).collect();
        order.sort_by_key(|&i| specs[i].template.specificity());
        let mut by_first: HashMap<&'static str, Vec<usize>> = HashMap::new();
        let mut wild = Vec::new();
        for i in order {
            match specs[i].template.first_literal() {
                Some(lit) => by_first.entry(lit).or_default().push(i),
                None => wild.push(i),
            }
        }
        Self {
            specs,
            by_first,
            wild,
        }
    }

    pub(crate) fn route(&self, method: &http::Method, path: &str) -> Routed<'_> {
        let first = path
            .strip_prefix('/')
            .unwrap_or(path)
            .split(['/', ':'])
            .next()
            .unwrap_or("");
        let bucket = self.by_first.get(first).map(Vec::as_slice).unwrap_or(&[]);
        let mut allowed: Vec<&str> = Vec::new();
        for &i in bucket.iter().chain(&self.wild) {
            let spec = self.specs[i];
            match spec.template.matches(path) {
                Ok(None) => {}
                Ok(Some(vars)) => {
                    if spec.method.matches(method) {
                        return Routed::Found(i, vars);
                    }
                    let name = spec.method.as_str();
                    if !allowed.contains(&name) {
                        allowed.push(name);
                    }
                }
                Err((field, why)) => {
                    if spec.method.matches(method) {
                        return Routed::BadPath(field, why);
                    }
                }
            }
        }
        if allowed.is_empty() {
            Routed::NotFound
        } else {
            Routed::MethodNotAllowed(allowed)
        }
    }
}

impl HttpMethod {
    fn matches(&self, method: &http::Method) -> bool {
        self.as_str() == method.as_str()
    }
}
