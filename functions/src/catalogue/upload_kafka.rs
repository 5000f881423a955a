//! `upload_kafka`: produces `message` to partition 0 of `topic`, as the original's Kafka producer
//! did, and answers where it landed. `groupID` is accepted for the original's argument shape and
//! unused (a producer belongs to no group); `consumerID` is the client id the broker sees.
use serde::{Deserialize, Serialize};

use super::kafka_topic::{self, MAX_ID, MAX_TOPIC, PARTITION, check_name, with_kafka};
use crate::clients::kafka::MAX_VALUE;
use crate::function::{Context, FnError, Function};

pub struct UploadKafka;

#[derive(Serialize, Deserialize, Debug)]
pub struct Args<'a> {
    pub topic: &'a str,
    pub message: &'a str,
    #[serde(rename = "groupID")]
    pub group_id: Option<&'a str>,
    #[serde(rename = "consumerID")]
    pub consumer_id: Option<&'a str>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Eq)]
pub struct Output {
    pub partition: i32,
    pub offset: i64,
}

impl Function for UploadKafka {
    const NAME: &'static str = "upload_kafka";
    const SUMMARY: &'static str = "produce a message to partition 0 of a topic on the configured Kafka";
    const ARGS: &'static str =
        "{topic: string (<= 249 bytes), message: string (<= 1024 bytes), groupID?: string, consumerID?: string}";
    const OUTPUT: &'static str = "{partition: integer, offset: integer}";
    const EXAMPLE: &'static str = r#"{"topic": "microfaas", "message": "hello"}"#;
    const SERVICES: &'static [&'static str] = &[kafka_topic::SERVICE];
    type Args<'a> = Args<'a>;
    type Output<'a> = Output;

    fn check(args: &Args<'_>) -> Result<(), FnError> {
        check_name(Some(args.topic), MAX_TOPIC, "topic: empty or longer than 249 bytes")?;
        check_name(args.group_id, MAX_ID, "groupID: empty or longer than 255 bytes")?;
        check_name(args.consumer_id, MAX_ID, "consumerID: empty or longer than 255 bytes")?;
        match args.message.len() {
            n if n > MAX_VALUE => Err(FnError::bad_args("message: longer than 1024 bytes")),
            _ => Ok(()),
        }
    }

    fn run<'a>(ctx: &mut Context<'_>, args: Self::Args<'a>) -> Result<Self::Output<'a>, FnError> {
        Self::check(&args)?;
        with_kafka(ctx, Some(args.topic), args.consumer_id, |kafka, topic| {
            let offset = kafka.produce(topic, PARTITION, args.message.as_bytes())?;
            Ok(Output { partition: PARTITION, offset })
        })
    }
}
