//! Handler trailers on a successful gRPC response.
//!
//! tonic writes the trailers itself (`grpc-status: 0`); the handler's extra trailers ride in the
//! response extensions until tonic has built the response, then this body adds them to tonic's
//! trailers frame. Responses without extra trailers are not wrapped.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::HeaderMap;
use http_body::{Frame, SizeHint};
use pin_project_lite::pin_project;

use super::Body;

/// Extra trailers waiting in the response extensions.
#[derive(Clone, Debug)]
pub(super) struct ExtraTrailers(pub(super) HeaderMap);

/// Moves [`ExtraTrailers`] from the extensions into the body's trailers frame.
pub(super) fn attach(mut response: http::Response<Body>) -> http::Response<Body> {
    match response.extensions_mut().remove::<ExtraTrailers>() {
        None => response,
        Some(ExtraTrailers(extra)) => response.map(|inner| {
            Body::new(WithTrailers {
                inner,
                extra: Some(extra),
            })
        }),
    }
}

pin_project! {
    struct WithTrailers {
        #[pin]
        inner: Body,
        extra: Option<HeaderMap>,
    }
}

impl http_body::Body for WithTrailers {
    type Data = Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.project();
        match this.inner.poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let frame = match frame.into_trailers() {
                    Ok(mut trailers) => {
                        if let Some(extra) = this.extra.take() {
                            for (name, value) in &extra {
                                // The status trailers are tonic's to write.
                                if !name.as_str().starts_with("grpc-") {
                                    trailers.append(name.clone(), value.clone());
                                }
                            }
                        }
                        Frame::trailers(trailers)
                    }
                    Err(frame) => frame,
                };
                Poll::Ready(Some(Ok(frame)))
            }
            other => other,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
