// A server-streaming RPC answers with a `ServerStream` of its output message.
include!("../../fixtures/shop.rs");

use shop::v1::{QueueUpdate, StreamUpdatesRequest, UpdatesService};
use tacos_runtime::{Request, RequestStream, Response, ServerStream, Status};

struct Gateway;

#[tacos_runtime::service]
impl UpdatesService for Gateway {
    async fn stream_updates(&self, _req: Request<StreamUpdatesRequest>) -> Result<Response<QueueUpdate>, Status> {
        todo!()
    }

    async fn upload_positions(&self, _req: Request<RequestStream<QueueUpdate>>) -> Result<Response<()>, Status> {
        todo!()
    }

    async fn exchange_positions(&self, _req: Request<RequestStream<QueueUpdate>>) -> Result<Response<ServerStream<QueueUpdate>>, Status> {
        todo!()
    }
}

fn main() {}
