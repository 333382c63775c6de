//! The codec of outgoing request streams: prost's, plus a way to fail the request body.
//!
//! tonic sends a request stream's items as they come and half-closes the body when the stream
//! ends, which tells the server the client is done. A caller whose request stream fails is not
//! done: its error is encoded as a failure of the body instead, which resets the HTTP/2 stream,
//! so the server's handler sees a broken stream rather than a complete one.

use std::marker::PhantomData;

use tonic::codec::{Codec, EncodeBuf, Encoder};
use tonic::Status;
use tonic_prost::ProstCodec;

/// Encodes `Ok` messages with prost; an `Err` fails the request body.
pub(crate) struct AbortCodec<Req, Resp> {
    prost: ProstCodec<Req, Resp>,
    _types: PhantomData<fn(Req) -> Resp>,
}

impl<Req, Resp> Default for AbortCodec<Req, Resp> {
    fn default() -> Self {
        Self {
            prost: ProstCodec::default(),
            _types: PhantomData,
        }
    }
}

impl<Req, Resp> Codec for AbortCodec<Req, Resp>
where
    Req: prost::Message + Send + 'static,
    Resp: prost::Message + Default + Send + 'static,
{
    type Encode = Result<Req, crate::status::Status>;
    type Decode = Resp;
    type Encoder = AbortEncoder<<ProstCodec<Req, Resp> as Codec>::Encoder>;
    type Decoder = <ProstCodec<Req, Resp> as Codec>::Decoder;

    fn encoder(&mut self) -> Self::Encoder {
        AbortEncoder(self.prost.encoder())
    }

    fn decoder(&mut self) -> Self::Decoder {
        self.prost.decoder()
    }
}

/// prost's encoder, failing on an `Err` item.
pub(crate) struct AbortEncoder<E>(E);

impl<E, Req> Encoder for AbortEncoder<E>
where
    E: Encoder<Item = Req, Error = Status>,
{
    type Item = Result<Req, crate::status::Status>;
    type Error = Status;

    fn encode(&mut self, item: Self::Item, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        match item {
            Ok(message) => self.0.encode(message, dst),
            Err(status) => Err(status.into()),
        }
    }

    fn buffer_settings(&self) -> tonic::codec::BufferSettings {
        self.0.buffer_settings()
    }
}
