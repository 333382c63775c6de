//! Per-call JSON options, carried to generated code through a thread-local.
//!
//! Generated `Serialize` impls read the naming choice once per message instead of taking it as a
//! parameter, so they stay plain `serde` impls that any serializer can drive.

use std::cell::Cell;

/// Options for printing and parsing proto3 JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct JsonOptions {
    /// Print fields under their proto names (`event_id`) instead of lowerCamel (`eventId`).
    pub proto_field_names: bool,
    /// When parsing, drop enum names this build does not know instead of failing.
    pub ignore_unknown_enum_values: bool,
    /// Print fields without presence even when they hold their default (`0`, `""`, `false`,
    /// the first enum value, `[]`, `{}`), as protobuf's "always print fields with no presence"
    /// option does; message and `optional` fields still print only when set.
    pub emit_unpopulated: bool,
}

impl JsonOptions {
    /// The spec defaults: lowerCamel names, unknown enum names rejected.
    pub const fn new() -> Self {
        Self {
            proto_field_names: false,
            ignore_unknown_enum_values: false,
            emit_unpopulated: false,
        }
    }

    /// Prints fields under their proto names when `yes`.
    pub const fn with_proto_field_names(mut self, yes: bool) -> Self {
        self.proto_field_names = yes;
        self
    }

    /// Prints fields without presence even when they hold their default, when `yes`.
    pub const fn with_emit_unpopulated(mut self, yes: bool) -> Self {
        self.emit_unpopulated = yes;
        self
    }

    /// Drops unknown enum names while parsing when `yes`.
    pub const fn with_ignore_unknown_enum_values(mut self, yes: bool) -> Self {
        self.ignore_unknown_enum_values = yes;
        self
    }
}

thread_local! {
    static CURRENT: Cell<JsonOptions> = const { Cell::new(JsonOptions::new()) };
}

/// The options in force on this thread.
pub(crate) fn current() -> JsonOptions {
    CURRENT.with(Cell::get)
}

/// Runs `f` with `options` in force on this thread, restoring the previous ones afterwards (also
/// when `f` panics).
pub fn with_options<R>(options: JsonOptions, f: impl FnOnce() -> R) -> R {
    struct Restore(JsonOptions);
    impl Drop for Restore {
        fn drop(&mut self) {
            CURRENT.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(CURRENT.with(|c| c.replace(options)));
    f()
}

/// The options in force, for generated code: read once per message.
#[inline]
pub fn options() -> JsonOptions {
    current()
}

/// Whether fields print under their proto names.
#[inline]
pub fn proto_field_names() -> bool {
    current().proto_field_names
}
