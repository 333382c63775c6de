//! Who is acting: the authenticated subject must be the user a request acts for.

use tacos_runtime::{Code, Context, Status};
use traffic_tacos_contracts::common::v1::ErrorCode;

use crate::errors;

/// The role of operators and trusted services, who may act for any user.
pub const OPERATOR_ROLE: &str = "admin";

/// Checks that the caller acts for itself: an empty `user_id` becomes the token's subject; a
/// `user_id` naming someone else is refused unless the caller has [`OPERATOR_ROLE`]. Without a
/// principal (a method served without auth) the request is left as it is.
pub fn act_as(context: &Context, user_id: &mut String) -> Result<(), Status> {
    let Some(principal) = context.principal() else {
        return Ok(());
    };
    if principal.roles.iter().any(|r| r == OPERATOR_ROLE) && !user_id.is_empty() {
        return Ok(());
    }
    if user_id.is_empty() {
        user_id.clone_from(&principal.subject);
        return Ok(());
    }
    if *user_id != principal.subject {
        return Err(errors::status(
            Code::PermissionDenied,
            ErrorCode::Forbidden,
            "user_id must be the authenticated user",
        ));
    }
    Ok(())
}
