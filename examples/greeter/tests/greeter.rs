//! The example's own handler, over the in-process client and over REST and gRPC on loopback.

use std::sync::Arc;

use futures::StreamExt;
use greeter::greeter::v1::{
    greeter_service, Greeter, GreeterClient, SayHelloAgainRequest, SayHelloRequest,
};
use greeter::Greetings;
use tacos_runtime::server::{Listeners, Server};
use tacos_runtime::{Code, Request};

#[tokio::test]
async fn greetings_in_process() {
    let client = GreeterClient::local(Arc::new(Greetings));
    let hello = client
        .say_hello(Request::new(SayHelloRequest {
            name: "Ana".into(),
            language: "es".into(),
        }))
        .await
        .unwrap();
    assert_eq!(hello.message().message, "Hola, Ana!");
    let refused = client
        .say_hello(Request::new(SayHelloRequest {
            name: "Ana".into(),
            language: "xx".into(),
        }))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    let again = client
        .say_hello_again(Request::new(SayHelloAgainRequest {
            name: "Ben".into(),
            times: 3,
        }))
        .await
        .unwrap()
        .into_message();
    let greetings: Vec<_> = again.collect().await;
    assert_eq!(greetings.len(), 3);
    assert_eq!(greetings[2].as_ref().unwrap().message, "Hello, Ben!");
}

#[tokio::test]
async fn the_expanded_contract_serves_rest() {
    let server = Server::builder()
        .add(greeter_service(Arc::new(Greetings)))
        .build()
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server.serve(Listeners::both(listener), async {
        let _ = stopped.await;
    }));
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request =
        "GET /v1/greetings/Ana?language=ko HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n";
    tokio::io::AsyncWriteExt::write_all(&mut stream, request.as_bytes())
        .await
        .unwrap();
    let mut answer = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut stream, &mut answer)
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains(r#""message":"안녕하세요, Ana!""#),
        "{answer}"
    );
    let _ = stop.send(());
    serving.await.unwrap().unwrap();
}

#[test]
fn the_attribute_records_the_policies_from_the_expanded_contract() {
    let policy = Greetings
        .method_policy("SayHello")
        .expect("#[tacos(...)] on say_hello");
    assert!(policy.public);
    assert_eq!(policy.timeout, Some(std::time::Duration::from_secs(1)));
    assert!(Greetings.method_policy("Nope").is_none());
}
