//! Comments from the source info, as descriptions.

use prost_reflect::{
    EnumDescriptor, EnumValueDescriptor, FieldDescriptor, FileDescriptor, MessageDescriptor,
};

/// An element whose comments are wanted.
pub(crate) enum Located<'a> {
    /// A message.
    Message(&'a MessageDescriptor),
    /// A field.
    Field(&'a FieldDescriptor),
    /// An enum.
    Enum(&'a EnumDescriptor),
    /// An enum value.
    EnumValue(&'a EnumValueDescriptor),
}

/// The leading and trailing comments of an element, joined by a blank line; `None` when it has
/// none (or the file was loaded without source info).
pub(crate) fn comments_of(element: Located<'_>) -> Option<String> {
    let (file, path) = match element {
        Located::Message(m) => (m.parent_file(), m.path()),
        Located::Field(f) => (f.parent_file(), f.path()),
        Located::Enum(e) => (e.parent_file(), e.path()),
        Located::EnumValue(v) => (v.parent_file(), v.path()),
    };
    comments_at(&file, path)
}

/// The comments at `path` in `file`'s source info.
fn comments_at(file: &FileDescriptor, path: &[i32]) -> Option<String> {
    let info = file.file_descriptor_proto().source_code_info.as_ref()?;
    let location = info.location.iter().find(|l| l.path == path)?;
    let parts: Vec<String> = [&location.leading_comments, &location.trailing_comments]
        .into_iter()
        .filter_map(|text| clean(text.as_deref()?))
        .collect();
    (!parts.is_empty()).then(|| parts.join("\n\n"))
}

/// Strips the one space after the comment marker and surrounding blank lines.
pub(crate) fn clean(text: &str) -> Option<String> {
    let text = text
        .lines()
        .map(|line| line.strip_prefix(' ').unwrap_or(line).trim_end())
        .collect::<Vec<_>>()
        .join("\n");
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}
