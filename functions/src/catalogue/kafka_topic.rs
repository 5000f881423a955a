//! What the Kafka functions share: the service they use, the session, and the topic, group and
//! client-id arguments with their caps.
use crate::clients::kafka::Kafka;
use crate::function::{Context, FnError};
use crate::net::{Service, ServiceError};

/// The service both functions need (`[services.kafka]`). Its `database` field names the default
/// topic of `read_kafka`, so no topic name lives in code.
pub const SERVICE: &str = "kafka";
/// Connect and every request must finish within this.
pub const TIMEOUT_MS: u32 = 5_000;
/// The partition both functions use, as the original did.
pub const PARTITION: i32 = 0;
/// Kafka's own limit on topic names.
pub const MAX_TOPIC: usize = 249;
/// Longest group or consumer id.
pub const MAX_ID: usize = 255;
/// The client id when the caller gives no `consumerID`.
const DEFAULT_CLIENT_ID: &str = "microfaas";

/// Rejects a topic, group or consumer id over its cap, or an empty one.
pub fn check_name(name: Option<&str>, max: usize, message: &'static str) -> Result<(), FnError> {
    match name {
        Some(n) if n.is_empty() || n.len() > max => Err(FnError::bad_args(message)),
        _ => Ok(()),
    }
}

/// Runs `body` in a session with the invocation's Kafka as `consumer` (or the default client
/// id), with the topic to use: `topic`, else the service's default. Client errors become the
/// function's (the server's text goes to the context for the runner to report).
pub fn with_kafka<T>(
    ctx: &mut Context<'_>,
    topic: Option<&str>,
    consumer: Option<&str>,
    body: impl FnOnce(&mut Kafka<'_>, &str) -> Result<T, ServiceError>,
) -> Result<T, FnError> {
    let result = {
        let (service, net) = ctx.service(SERVICE)?;
        let service = service.clone();
        Service::require(
            topic.or(service.database),
            "kafka: no topic given and the service names no default (database)",
        )
        .and_then(|topic| {
            let mut kafka = Kafka::connect(net, &service, consumer.unwrap_or(DEFAULT_CLIENT_ID), TIMEOUT_MS)?;
            body(&mut kafka, topic)
        })
    };
    result.map_err(|e| ctx.fail(e))
}
