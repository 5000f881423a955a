//! `redis_insert`: stores a balance under a key and reads it back, as the original's Redis
//! workload did (`SET id balance`, then `GET id`).
use serde::{Deserialize, Serialize};

use super::redis_key::{self, Key, get_integer, with_redis};
use crate::clients::redis::{Reply, decimal};
use crate::function::{Context, FnError, Function};
use crate::net::ServiceError;

pub struct RedisInsert;

#[derive(Serialize, Deserialize, Debug)]
pub struct Args {
    pub id: Key,
    pub balance: i64,
}

impl Function for RedisInsert {
    const NAME: &'static str = "redis_insert";
    const SUMMARY: &'static str = "SET id balance, then GET id, on the configured Redis";
    const ARGS: &'static str = "{id: string | integer, balance: integer}";
    const OUTPUT: &'static str = "the stored balance (integer)";
    const EXAMPLE: &'static str = r#"{"id": 1, "balance": 100}"#;
    const SERVICES: &'static [&'static str] = &[redis_key::SERVICE];
    type Args<'a> = Args;
    type Output<'a> = i64;

    fn run<'a>(ctx: &mut Context<'_>, args: Self::Args<'a>) -> Result<Self::Output<'a>, FnError> {
        with_redis(ctx, |redis| {
            let mut text = [0; 24];
            match redis.command(&[b"SET", args.id.0.as_bytes(), decimal(args.balance, &mut text)])? {
                Reply::Simple(b"OK") => {}
                _ => return Err(ServiceError::protocol("protocol error: unexpected reply to SET")),
            }
            get_integer(redis, &args.id)
        })
    }
}
