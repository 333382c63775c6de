// A server-streaming RPC answers with a `ServerStream` of its output message.
include!("../../fixtures/shop.rs");

use shop::v1::{QueueUpdate, StreamUpdatesRequest, UpdatesService};
use tacos_runtime::{Request, Response, Status};

struct Gateway;

#[tacos_runtime::service]
impl UpdatesService for Gateway {
    async fn stream_updates(&self, _req: Request<StreamUpdatesRequest>) -> Result<Response<QueueUpdate>, Status> {
        todo!()
    }
}

fn main() {}
