// Handlers for the generated Traffic Tacos traits (`examples/contracts`), checked against the
// descriptor set `cargo xtask generate` wrote next to them.
use std::time::Duration;

use tacos_runtime::{Request, Response, ServerStream, Status};
use traffic_tacos_contracts::gateway::v1 as pb;

struct Gateway;

#[tacos_runtime::service]
impl pb::QueueService for Gateway {
    #[tacos(public, timeout = "2s", rate = "join")]
    async fn join_queue(&self, request: Request<pb::JoinQueueRequest>) -> Result<Response<pb::JoinQueueResponse>, Status> {
        let _ = request;
        todo!()
    }

    async fn get_queue_status(
        &self,
        request: Request<pb::GetQueueStatusRequest>,
    ) -> Result<Response<pb::GetQueueStatusResponse>, Status> {
        let _ = request;
        todo!()
    }

    async fn request_admission(
        &self,
        request: Request<pb::RequestAdmissionRequest>,
    ) -> Result<Response<pb::RequestAdmissionResponse>, Status> {
        let _ = request;
        todo!()
    }

    async fn leave_queue(&self, request: Request<pb::LeaveQueueRequest>) -> Result<Response<pb::LeaveQueueResponse>, Status> {
        let _ = request;
        todo!()
    }

    #[tacos(roles("admin"), scopes("queue:read"), idempotent)]
    async fn get_queue_stats(
        &self,
        request: Request<pb::GetQueueStatsRequest>,
    ) -> Result<Response<pb::GetQueueStatsResponse>, Status> {
        let _ = request;
        todo!()
    }
}

#[tacos_runtime::service]
impl pb::WebSocketService for Gateway {
    #[tacos(public)]
    async fn stream_queue_updates(
        &self,
        request: Request<pb::StreamQueueUpdatesRequest>,
    ) -> Result<Response<ServerStream<pb::StreamQueueUpdatesResponse>>, Status> {
        let _ = request;
        todo!()
    }

    async fn stream_reservation_updates(
        &self,
        request: Request<pb::StreamReservationUpdatesRequest>,
    ) -> Result<Response<ServerStream<pb::StreamReservationUpdatesResponse>>, Status> {
        let _ = request;
        todo!()
    }

    async fn stream_payment_updates(
        &self,
        request: Request<pb::StreamPaymentUpdatesRequest>,
    ) -> Result<Response<ServerStream<pb::StreamPaymentUpdatesResponse>>, Status> {
        let _ = request;
        todo!()
    }

    async fn send_message(&self, request: Request<pb::SendMessageRequest>) -> Result<Response<pb::SendMessageResponse>, Status> {
        let _ = request;
        todo!()
    }
}

fn main() {
    // The generated service asks by RPC name.
    let join = pb::QueueService::method_policy(&Gateway, "JoinQueue").unwrap();
    assert!(join.public);
    assert_eq!(join.timeout, Some(Duration::from_secs(2)));
    let stats = pb::QueueService::method_policy(&Gateway, "GetQueueStats").unwrap();
    assert_eq!(stats.roles, ["admin"]);
    assert!(stats.idempotent);
    assert!(pb::WebSocketService::method_policy(&Gateway, "StreamQueueUpdates").unwrap().public);
    // A method without attributes is authenticated: the default policy.
    let send = pb::WebSocketService::method_policy(&Gateway, "SendMessage").unwrap();
    assert_eq!(*send, tacos_runtime::MethodPolicy::DEFAULT);
}
