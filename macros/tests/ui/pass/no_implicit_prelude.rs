// The expansion names everything by absolute path, so it compiles without the prelude.
#![no_implicit_prelude]

include!("../../fixtures/shop.rs");

use ::tacos_runtime::{Request, Response, Status};
use shop::v1::{get_queue_stats, GetQueueStatsRequest, JoinQueueRequest, JoinQueueResponse, LeaveQueueRequest};

struct Gateway;

#[::tacos_runtime::service]
impl shop::v1::QueueService for Gateway {
    #[tacos(public, timeout = "250ms", rate = "join")]
    async fn join_queue(
        &self,
        req: Request<JoinQueueRequest>,
    ) -> ::core::result::Result<Response<JoinQueueResponse>, Status> {
        let _ = req;
        ::core::todo!()
    }

    #[tacos(roles("admin"), idempotent)]
    async fn leave_queue(&self, req: Request<LeaveQueueRequest>) -> ::core::result::Result<Response<()>, Status> {
        let _ = req;
        ::core::todo!()
    }

    async fn get_queue_stats(
        &self,
        req: Request<GetQueueStatsRequest>,
    ) -> ::core::result::Result<Response<get_queue_stats::Response>, Status> {
        let _ = req;
        ::core::todo!()
    }
}

fn main() {
    let policy = shop::v1::QueueService::method_policy(&Gateway, "/shop.v1.QueueService/LeaveQueue");
    ::std::assert!(policy.unwrap().idempotent);
}
