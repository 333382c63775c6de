//! Whether a call may run at all: authentication, authorization, then its rate limit.

use std::net::IpAddr;
use std::sync::Arc;

use super::policies::Policies;
use crate::auth::{missing_credentials, Authenticator};
use crate::context::{Context, Principal, RemoteAddr};
use crate::method::{MethodInfo, MethodPolicy};
use crate::rate_limit::Decision;
use crate::status::Status;

/// Authenticates and authorizes the call, then takes a token from its rate limit. Returns the
/// principal (also set on `context`).
///
/// Methods without a declared policy (handlers not bound with the service attribute) are not
/// authenticated; a method with a policy that is not `public` needs a valid bearer token, and is
/// refused when the server has no authenticator at all. A public method ignores a bad token
/// and runs anonymously.
pub(crate) async fn admit(
    policies: &Policies,
    method: &'static MethodInfo,
    policy: Option<&'static MethodPolicy>,
    context: &mut Context,
) -> Result<Option<Arc<Principal>>, Status> {
    let principal = authenticate(policies, method, policy, context).await?;
    if let Some(principal) = &principal {
        context.set_principal(Arc::clone(principal));
    }
    if let Some(limiter) = &policies.rate_limit {
        let class = policy.and_then(|p| p.rate_class);
        let subject = match &principal {
            Some(principal) => RateSubject::Principal(&principal.subject),
            None => {
                let peer = context.extensions().get::<RemoteAddr>().map(|a| a.0.ip());
                RateSubject::Peer(limiter.client_ip(peer, context.metadata()))
            }
        };
        match limiter.check(class, &subject.key()).await {
            Ok(Decision::Allowed) => {}
            Ok(Decision::Limited { retry_after }) => {
                return Err(Status::resource_exhausted(format!(
                    "rate limit of {} exceeded",
                    class.unwrap_or("this service")
                ))
                .with_retry_after(retry_after));
            }
            // A limiter outage must not take the service down with it: the call goes through.
            Err(err) => tracing::warn!(
                target: "tacos::rate_limit",
                method = method.path,
                error = %err,
                "rate-limit store unavailable; call allowed"
            ),
        }
    }
    Ok(principal)
}

async fn authenticate(
    policies: &Policies,
    method: &'static MethodInfo,
    policy: Option<&'static MethodPolicy>,
    context: &Context,
) -> Result<Option<Arc<Principal>>, Status> {
    let Some(policy) = policy else {
        return Ok(None);
    };
    let Some(auth) = &policies.auth else {
        if policy.public {
            return Ok(None);
        }
        tracing::warn!(
            target: "tacos::auth",
            method = method.path,
            "method needs authentication but the server has no authenticator (set JWT_SECRET or JWT_JWKS_URL)"
        );
        return Err(missing_credentials());
    };
    match auth.authenticate(context.metadata()).await {
        Ok(Some(principal)) => {
            if !policy.public {
                Authenticator::authorize(policy, &principal)?;
            }
            Ok(Some(Arc::new(principal)))
        }
        Ok(None) if policy.public => Ok(None),
        Ok(None) => Err(missing_credentials()),
        // The reason was logged by the authenticator; it is never returned.
        Err(_) if policy.public => Ok(None),
        Err(failure) => Err(failure.status()),
    }
}

/// Who a rate limit counts against.
enum RateSubject<'a> {
    Principal(&'a str),
    Peer(Option<IpAddr>),
}

impl RateSubject<'_> {
    fn key(&self) -> String {
        match self {
            RateSubject::Principal(subject) => format!("sub:{subject}"),
            RateSubject::Peer(Some(ip)) => format!("ip:{ip}"),
            RateSubject::Peer(None) => "ip:unknown".to_owned(),
        }
    }
}
