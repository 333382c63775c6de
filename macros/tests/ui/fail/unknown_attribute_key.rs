// `#[tacos(...)]` keys are checked, with the closest key suggested.
include!("../../fixtures/shop.rs");

use shop::v1::{get_queue_stats, GetQueueStatsRequest, JoinQueueRequest, JoinQueueResponse, LeaveQueueRequest, QueueService};
use tacos_runtime::{Request, Response, Status};

struct Gateway;

#[tacos_runtime::service]
impl QueueService for Gateway {
    #[tacos(public, idempotnet)]
    async fn join_queue(&self, _req: Request<JoinQueueRequest>) -> Result<Response<JoinQueueResponse>, Status> {
        todo!()
    }

    async fn leave_queue(&self, _req: Request<LeaveQueueRequest>) -> Result<Response<()>, Status> {
        todo!()
    }

    async fn get_queue_stats(
        &self,
        _req: Request<GetQueueStatsRequest>,
    ) -> Result<Response<get_queue_stats::Response>, Status> {
        todo!()
    }
}

fn main() {}
