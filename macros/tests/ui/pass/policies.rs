// A complete handler: it compiles, and its declared policies are what the runtime reads.
include!("../../fixtures/shop.rs");

use std::time::Duration;

use shop::v1::{
    get_queue_stats, GetQueueStatsRequest, JoinQueueRequest, JoinQueueResponse, LeaveQueueRequest,
    QueueService, QueueUpdate, StreamUpdatesRequest, UpdatesService,
};
use tacos_runtime::{Request, RequestStream, Response, ServerStream, Status};

struct Gateway;

#[tacos_runtime::service]
impl QueueService for Gateway {
    #[tacos(public, timeout = "2s", rate = "join")]
    async fn join_queue(&self, req: Request<JoinQueueRequest>) -> Result<Response<JoinQueueResponse>, Status> {
        let _ = req;
        todo!()
    }

    async fn leave_queue(&self, req: Request<LeaveQueueRequest>) -> Result<Response<()>, Status> {
        let _ = req;
        todo!()
    }

    #[tacos(roles("admin", "ops"), scopes("queue:read"))]
    #[tacos(idempotent, timeout = "1.5s")]
    async fn get_queue_stats(
        &self,
        req: Request<shop::v1::GetQueueStatsRequest>,
    ) -> Result<Response<get_queue_stats::Response>, Status> {
        let _: &GetQueueStatsRequest = req.message();
        todo!()
    }
}

#[tacos_runtime::service(contract = "shop.v1.UpdatesService")]
impl UpdatesService for Gateway {
    async fn stream_updates(
        &self,
        req: Request<StreamUpdatesRequest>,
    ) -> Result<Response<ServerStream<QueueUpdate>>, Status> {
        let _ = req;
        todo!()
    }

    #[tacos(timeout = "30s")]
    async fn upload_positions(&self, req: Request<RequestStream<QueueUpdate>>) -> Result<Response<()>, Status> {
        let _ = req;
        todo!()
    }

    async fn exchange_positions(
        &self,
        req: Request<RequestStream<QueueUpdate>>,
    ) -> Result<Response<ServerStream<QueueUpdate>>, Status> {
        let _ = req;
        todo!()
    }
}

fn main() {
    let gateway = Gateway;
    let upload = UpdatesService::method_policy(&gateway, "UploadPositions").unwrap();
    assert_eq!(upload.timeout, Some(Duration::from_secs(30)));
    let join = QueueService::method_policy(&gateway, "/shop.v1.QueueService/JoinQueue").unwrap();
    assert!(join.public);
    assert!(!join.idempotent);
    assert_eq!(join.rate_class, Some("join"));
    assert_eq!(join.timeout, Some(Duration::from_secs(2)));
    assert!(join.roles.is_empty() && join.scopes.is_empty());

    // The runtime asks by RPC name; the gRPC path finds the same entry.
    let stats = QueueService::method_policy(&gateway, "GetQueueStats").unwrap();
    assert!(std::ptr::eq(
        stats,
        QueueService::method_policy(&gateway, "/shop.v1.QueueService/GetQueueStats").unwrap()
    ));
    assert!(!stats.public);
    assert!(stats.idempotent);
    assert_eq!(stats.roles, ["admin", "ops"]);
    assert_eq!(stats.scopes, ["queue:read"]);
    assert_eq!(stats.rate_class, None);
    assert_eq!(stats.timeout, Some(Duration::from_millis(1500)));

    // A method without attributes is protected: the default policy, never none.
    let leave = QueueService::method_policy(&gateway, "LeaveQueue").unwrap();
    assert_eq!(*leave, tacos_runtime::MethodPolicy::DEFAULT);
    assert!(QueueService::method_policy(&gateway, "/shop.v1.QueueService/LeaveQueue").is_some());
    assert!(QueueService::method_policy(&gateway, "/shop.v1.QueueService/Nope").is_none());
    assert_eq!(
        UpdatesService::method_policy(&gateway, "StreamUpdates"),
        Some(&tacos_runtime::MethodPolicy::DEFAULT)
    );
}
