//! `read_kafka`: reads the next record of partition 0 of `topic` for `groupID` and commits past
//! it, as the original's Kafka consumer did, but as a standalone group member (Metadata to check the
//! topic exists, OffsetFetch, Fetch, OffsetCommit; no group join), so each call is one short session. Without `topic` it reads the
//! service's default topic (its `database` field). A record with a null value reads as "".
use alloc::string::String;

use serde::{Deserialize, Serialize};

use super::kafka_topic::{self, MAX_ID, MAX_TOPIC, PARTITION, check_name, with_kafka};
use crate::function::{Context, FnError, Function};
use crate::memory;
use crate::net::ServiceError;

pub struct ReadKafka;

#[derive(Serialize, Deserialize, Debug)]
pub struct Args<'a> {
    pub topic: Option<&'a str>,
    #[serde(rename = "groupID")]
    pub group_id: &'a str,
    #[serde(rename = "consumerID")]
    pub consumer_id: Option<&'a str>,
}

impl Function for ReadKafka {
    const NAME: &'static str = "read_kafka";
    const SUMMARY: &'static str = "the next record of partition 0 of a topic for a group, committing past it, or null";
    const ARGS: &'static str =
        "{topic?: string (default: the service's `database`), groupID: string, consumerID?: string}";
    const OUTPUT: &'static str = "string (the record's value) or null when none is left";
    const EXAMPLE: &'static str = r#"{"topic": "microfaas", "groupID": "readers"}"#;
    const SERVICES: &'static [&'static str] = &[kafka_topic::SERVICE];
    type Args<'a> = Args<'a>;
    type Output<'a> = Option<String>;

    fn check(args: &Args<'_>) -> Result<(), FnError> {
        check_name(args.topic, MAX_TOPIC, "topic: empty or longer than 249 bytes")?;
        check_name(Some(args.group_id), MAX_ID, "groupID: empty or longer than 255 bytes")?;
        check_name(args.consumer_id, MAX_ID, "consumerID: empty or longer than 255 bytes")
    }

    fn run<'a>(ctx: &mut Context<'_>, args: Self::Args<'a>) -> Result<Self::Output<'a>, FnError> {
        Self::check(&args)?;
        let group = args.group_id;
        let mut out_of_memory = None;
        let read = with_kafka(ctx, args.topic, args.consumer_id, |kafka, topic| {
            kafka.require_topic(topic)?;
            let from = kafka.committed(group, topic, PARTITION)?.unwrap_or(0);
            let Some(record) = kafka.fetch(topic, PARTITION, from)? else { return Ok(None) };
            let text = core::str::from_utf8(record.value.unwrap_or(&[]))
                .map_err(|_| ServiceError::protocol("kafka: the record's value is not UTF-8 text"))?;
            let mut value = String::new();
            if let Err(e) = memory::push_str(&mut value, text) {
                out_of_memory = Some(e);
                return Ok(None);
            }
            let next = record.offset + 1;
            kafka.commit(group, topic, PARTITION, next)?;
            Ok(Some(value))
        })?;
        match out_of_memory {
            Some(e) => Err(e),
            None => Ok(read),
        }
    }
}
