//! One test per class of invalid binding, each asserting the message; plus route overlap rules.

use tacos_codegen::template::parse_template;
use tacos_codegen::validate::{templates_overlap, ProblemKind};

use crate::support::{check, lines};

const MESSAGES: &str = r#"
message Item { string id = 1; repeated string tags = 2; map<string, string> labels = 3; Inner inner = 4; }
message Inner { string name = 1; repeated Inner children = 2; }
message Reply { Item item = 1; string note = 2; }
"#;

/// A service with one method `Do(Item) returns (Reply)` carrying `option`.
fn one_method(option: &str) -> String {
    format!("{MESSAGES}\nservice Svc {{\n  rpc Do(Item) returns (Reply) {{\n    option (google.api.http) = {{ {option} }};\n  }}\n}}")
}

#[track_caller]
fn single_problem(body: &str, rules: &str) -> (ProblemKind, String) {
    let (_, problems) = check(body, rules);
    assert_eq!(problems.len(), 1, "{:#?}", lines(&problems));
    (problems[0].kind, problems[0].to_string())
}

#[test]
fn valid_bindings_pass() {
    let (contract, problems) = check(
        &one_method(
            r#"get: "/v1/items/{id}/{inner.name}" additional_bindings { post: "/v1/items" body: "*" }"#,
        ),
        "",
    );
    assert!(problems.is_empty(), "{:#?}", lines(&problems));
    assert_eq!(contract.method("test.v1.Svc.Do").unwrap().bindings.len(), 2);
}

#[test]
fn unknown_field_in_path() {
    let (kind, message) = single_problem(&one_method(r#"get: "/v1/items/{nme}""#), "");
    assert_eq!(kind, ProblemKind::UnknownField);
    assert_eq!(
        message,
        "test/v1/test.proto:10: test.v1.Svc.Do: path `/v1/items/{nme}`: unknown field `nme`: test.v1.Item has no field `nme`"
    );
}

#[test]
fn unknown_nested_field_in_path() {
    let (kind, message) = single_problem(&one_method(r#"get: "/v1/{id.x}""#), "");
    assert_eq!(kind, ProblemKind::UnknownField);
    assert!(
        message.ends_with("unknown field `id.x`: `id` of test.v1.Item is not a message"),
        "{message}"
    );
}

#[test]
fn unknown_field_in_body_and_response_body() {
    let (_, problems) = check(
        &one_method(r#"post: "/v1/items" body: "itme" response_body: "notes""#),
        "",
    );
    assert_eq!(
        lines(&problems),
        [
            "test/v1/test.proto:10: test.v1.Svc.Do: body: unknown field `itme`: test.v1.Item has no field `itme`",
            "test/v1/test.proto:10: test.v1.Svc.Do: response_body: unknown field `notes`: test.v1.Reply has no field `notes`",
        ]
    );
    assert!(problems.iter().all(|p| p.kind == ProblemKind::UnknownField));
}

#[test]
fn repeated_field_in_path() {
    let (kind, message) = single_problem(&one_method(r#"get: "/v1/items/{tags}""#), "");
    assert_eq!(kind, ProblemKind::FieldNotAllowedInPath);
    assert_eq!(
        message,
        "test/v1/test.proto: test.v1.Svc.Do: route `GET /v1/items/{tags}`: path variable `tags` goes through `tags`, a repeated field; path variables need singular fields"
    );
}

#[test]
fn map_field_in_path() {
    let (kind, message) = single_problem(&one_method(r#"get: "/v1/items/{labels}""#), "");
    assert_eq!(kind, ProblemKind::FieldNotAllowedInPath);
    assert!(message.ends_with("path variable `labels` goes through `labels`, a map field; path variables need singular fields"), "{message}");
}

#[test]
fn repeated_message_on_the_way_to_a_path_field() {
    let (kind, message) = single_problem(&one_method(r#"get: "/v1/{inner.children.name}""#), "");
    assert_eq!(kind, ProblemKind::FieldNotAllowedInPath);
    assert!(
        message.contains("goes through `children`, a repeated field"),
        "{message}"
    );
}

#[test]
fn message_field_in_path() {
    let (kind, message) = single_problem(&one_method(r#"get: "/v1/items/{inner}""#), "");
    assert_eq!(kind, ProblemKind::FieldNotAllowedInPath);
    assert!(message.ends_with("route `GET /v1/items/{inner}`: path variable `inner` is a message field (test.v1.Inner); path variables need scalar or enum fields"), "{message}");
}

#[test]
fn a_path_variable_inside_the_body_field_is_allowed() {
    // Per the HttpRule spec the path's value wins over the body's for that field.
    let (contract, problems) = check(
        &one_method(r#"patch: "/v1/items/{inner.name}" body: "inner""#),
        "",
    );
    assert!(problems.is_empty(), "{:#?}", lines(&problems));
    assert_eq!(contract.method("test.v1.Svc.Do").unwrap().bindings.len(), 1);
}

#[test]
fn body_field_also_bound_by_the_path() {
    let (kind, message) = single_problem(&one_method(r#"patch: "/v1/items/{id}" body: "id""#), "");
    assert_eq!(kind, ProblemKind::BodyPathCollision);
    assert_eq!(
        message,
        "test/v1/test.proto: test.v1.Svc.Do: route `PATCH /v1/items/{id}`: field `id` is bound by the path and also by body `id`"
    );
}

#[test]
fn malformed_template() {
    let (kind, message) = single_problem(&one_method(r#"get: "/v1/items/{id""#), "");
    assert_eq!(kind, ProblemKind::MalformedTemplate);
    assert_eq!(
        message,
        "test/v1/test.proto:10: test.v1.Svc.Do: malformed path template `/v1/items/{id` at column 11: unclosed `{`"
    );
}

#[test]
fn two_bindings_matching_the_same_requests() {
    let body = format!(
        "{MESSAGES}\nservice Svc {{\n  rpc Get(Item) returns (Reply) {{ option (google.api.http) = {{ get: \"/v1/{{id=items/*}}\" }}; }}\n  rpc Find(Item) returns (Reply) {{ option (google.api.http) = {{ get: \"/v1/items/{{inner.name}}\" }}; }}\n  rpc Put(Item) returns (Reply) {{ option (google.api.http) = {{ put: \"/v1/items/{{id}}\" body: \"*\" }}; }}\n}}"
    );
    let (kind, message) = single_problem(&body, "");
    assert_eq!(kind, ProblemKind::RouteConflict);
    assert_eq!(
        message,
        "test/v1/test.proto: test.v1.Svc.Find: route `GET /v1/items/{inner.name}` conflicts with `GET /v1/{id=items/*}` of test.v1.Svc.Get (test/v1/test.proto): some requests match both"
    );
}

#[test]
fn overlaps_resolved_by_specificity_are_allowed() {
    let body = format!(
        "{MESSAGES}\nservice Svc {{\n  rpc Get(Item) returns (Reply) {{ option (google.api.http) = {{ get: \"/v1/items/{{id}}\" additional_bindings {{ get: \"/v1/items/{{id}}:peek\" }} }}; }}\n  rpc Special(Item) returns (Reply) {{ option (google.api.http) = {{ get: \"/v1/items/special\" }}; }}\n  rpc All(Item) returns (Reply) {{ option (google.api.http) = {{ get: \"/v1/{{id=**}}\" }}; }}\n}}"
    );
    let (_, problems) = check(&body, "");
    assert!(problems.is_empty(), "{:#?}", lines(&problems));

    // The same shape twice is still ambiguous.
    let body = format!(
        "{MESSAGES}\nservice Svc {{\n  rpc Get(Item) returns (Reply) {{ option (google.api.http) = {{ get: \"/v1/items/{{id}}\" }}; }}\n  rpc Find(Item) returns (Reply) {{ option (google.api.http) = {{ get: \"/v1/items/{{inner.name}}\" }}; }}\n}}"
    );
    let (kind, _) = single_problem(&body, "");
    assert_eq!(kind, ProblemKind::RouteConflict);
}

#[test]
fn specificity_orders_literal_before_variable_before_deep_wildcard() {
    let key = |text: &str| parse_template(text).unwrap().specificity();
    assert!(key("/v1/items/special") < key("/v1/items/{id}"));
    assert!(key("/v1/items/{id}:peek") < key("/v1/items/{id}"));
    assert!(key("/v1/items/{id}") < key("/v1/{id=**}"));
    assert!(key("/v1/{a}/x") < key("/v1/{a}"));
    assert_eq!(key("/v1/{a}"), key("/v1/{b=*}"));
}

#[test]
fn invalid_rules() {
    let (_, problems) = check(
        &one_method(
            r#"get: "/v1/items/{id}" body: "*" additional_bindings { post: "/v1/items" body: "inner.name" }"#,
        ),
        "",
    );
    assert_eq!(
        lines(&problems),
        [
            "test/v1/test.proto: test.v1.Svc.Do: route `GET /v1/items/{id}`: a GET binding cannot have a body",
            "test/v1/test.proto: test.v1.Svc.Do: route `POST /v1/items`: body `inner.name` must name a top-level field of the request",
        ]
    );
    assert!(problems.iter().all(|p| p.kind == ProblemKind::InvalidRule));
}

#[test]
fn rules_file_problems_name_the_rule() {
    let body = format!("{MESSAGES}\nservice Svc {{ rpc Do(Item) returns (Reply); rpc Other(Item) returns (Reply); }}");
    let rules = r#"
http:
  rules:
    - selector: test.v1.Svc.Do
      get: /v1/items/{id}
      post: /v1/items
    - selector: test.v1.Svc.Missing
      get: /v1/missing
    - selector: test.v1.Svc
      get: /v1/svc
    - selector: test.v1.Svc.Other
"#;
    let (_, problems) = check(&body, rules);
    assert_eq!(
        lines(&problems),
        [
            "test/v1/test.proto:9: test.v1.Svc.Do: binding sets more than one verb (GET, POST) (rule in <rules>)",
            "test/v1/test.proto:9: test.v1.Svc.Other: binding sets no verb and path (one of get, put, post, delete, patch, custom) (rule in <rules>)",
            "<rules>: test.v1.Svc.Missing: selector matches no method of the contracts",
            "<rules>: test.v1.Svc: selector matches no method of the contracts (it names a service; use `<service>.*` to select all its methods)",
        ]
    );
}

#[test]
fn every_problem_is_reported_not_just_the_first() {
    let body = format!(
        "{MESSAGES}\nservice Svc {{\n  rpc A(Item) returns (Reply) {{ option (google.api.http) = {{ get: \"/v1/{{tags}}\" }}; }}\n  rpc B(Item) returns (Reply) {{ option (google.api.http) = {{ get: \"/v1/{{x\" }}; }}\n  rpc C(Item) returns (Reply) {{ option (google.api.http) = {{ post: \"/v1/c\" body: \"nope\" }}; }}\n}}"
    );
    let (_, problems) = check(&body, "");
    let kinds: Vec<ProblemKind> = problems.iter().map(|p| p.kind).collect();
    assert_eq!(
        kinds,
        [
            ProblemKind::MalformedTemplate,
            ProblemKind::UnknownField,
            ProblemKind::FieldNotAllowedInPath,
        ],
        "{:#?}",
        lines(&problems)
    );
    let methods: Vec<&str> = problems.iter().map(|p| p.method.as_str()).collect();
    assert_eq!(methods, ["test.v1.Svc.B", "test.v1.Svc.C", "test.v1.Svc.A"]);
}

#[test]
fn annotations_win_over_rules_and_wildcards_fill_the_rest() {
    let body = format!(
        "{MESSAGES}\nservice Svc {{\n  rpc A(Item) returns (Reply) {{ option (google.api.http) = {{ get: \"/v1/a/{{id}}\" }}; }}\n  rpc B(Item) returns (Reply);\n  rpc C(Item) returns (Reply);\n}}\nservice Other {{ rpc D(Item) returns (Reply); }}"
    );
    let rules = r#"
http:
  rules:
    - selector: test.v1.Svc.A
      get: /v1/ignored/{id}
    - selector: test.v1.Svc.*
      post: /v1/any/{id}
      body: "*"
    - selector: test.v1.Svc.C
      delete: /v1/c/{id}
"#;
    let (contract, problems) = check(&body, rules);
    let route = |m: &str| {
        let b = &contract.method(m).unwrap().bindings[0];
        format!("{} {} {:?}", b.verb, b.template, b.source)
    };
    // B and its wildcard would conflict with nothing else: C has an exact rule.
    assert!(problems.is_empty(), "{:#?}", lines(&problems));
    assert_eq!(route("test.v1.Svc.A"), "GET /v1/a/{id} Annotation");
    assert_eq!(route("test.v1.Svc.B"), "POST /v1/any/{id} Rules");
    assert_eq!(route("test.v1.Svc.C"), "DELETE /v1/c/{id} Rules");
    assert_eq!(route("test.v1.Other.D"), "POST /test.v1.Other/D Default");
}

#[track_caller]
fn overlap(a: &str, b: &str) -> bool {
    let (a, b) = (parse_template(a).unwrap(), parse_template(b).unwrap());
    let forward = templates_overlap(&a, &b);
    assert_eq!(
        forward,
        templates_overlap(&b, &a),
        "overlap must be symmetric"
    );
    forward
}

#[test]
fn route_overlap_is_exact() {
    assert!(overlap("/a/*", "/a/b"));
    assert!(overlap("/a/{x}", "/a/{y=*}"));
    assert!(overlap("/a/**", "/a"), "`**` matches zero segments");
    assert!(overlap("/a/**", "/a/b/c/d"));
    assert!(overlap("/a/b/**", "/a/*/c"));
    assert!(overlap("/{x=**}", "/v1/items/{id}:get"));
    assert!(!overlap("/a/*", "/a/*/b"));
    assert!(!overlap("/a/b", "/a/c"));
    assert!(!overlap("/a/b/**", "/a/c/**"));
    assert!(!overlap("/a/*:x", "/a/*:y"), "different verbs");
    assert!(!overlap("/a/b:x", "/a/b"), "a literal never ends in a verb");
    assert!(
        overlap("/a/*:x", "/a/*"),
        "`*` takes the whole last segment, verb included"
    );
    assert!(overlap("/a/b:x", "/a/*:x"));
    assert!(
        !overlap("/a/{n=**}:x", "/a:x"),
        "`**:x` needs a segment for the verb"
    );
    assert!(overlap("/a/{n=**}:x", "/a/b/c:x"));
}

#[test]
fn streaming_requests_bind_the_whole_body() {
    let service = |option: &str| {
        format!("{MESSAGES}\nservice Svc {{\n  rpc Up(stream Item) returns (Reply) {{\n    option (google.api.http) = {{ {option} }};\n  }}\n  rpc Talk(stream Item) returns (stream Reply) {{\n    option (google.api.http) = {{ post: \"/v1/talk/{{id}}\" body: \"*\" }};\n  }}\n}}")
    };
    let (_, problems) = check(&service(r#"post: "/v1/up" body: "*""#), "");
    assert!(problems.is_empty(), "{:#?}", lines(&problems));
    for option in [r#"post: "/v1/up" body: "inner""#, r#"get: "/v1/up""#] {
        let (kind, message) = single_problem(&service(option), "");
        assert_eq!(kind, ProblemKind::InvalidRule);
        assert!(
            message.contains("Up reads a stream of requests, one JSON message per line or WebSocket frame: set body \"*\""),
            "{message}"
        );
    }
}
