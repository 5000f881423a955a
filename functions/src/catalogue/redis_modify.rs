//! `redis_modify`: spends from a stored balance and reads the new one, as the original's Redis
//! workload did (`INCRBY id -spend`, then `GET id`). A missing key starts at 0, as in Redis.
use serde::{Deserialize, Serialize};

use super::redis_key::{self, Key, get_integer, with_redis};
use crate::clients::redis::decimal;
use crate::function::{Context, FnError, Function};

pub struct RedisModify;

#[derive(Serialize, Deserialize, Debug)]
pub struct Args {
    pub id: Key,
    pub spend: i64,
}

impl Function for RedisModify {
    const NAME: &'static str = "redis_modify";
    const SUMMARY: &'static str = "INCRBY id -spend, then GET id, on the configured Redis";
    const ARGS: &'static str = "{id: string | integer, spend: integer}";
    const OUTPUT: &'static str = "the new balance (integer)";
    const EXAMPLE: &'static str = r#"{"id": 1, "spend": 10}"#;
    const SERVICES: &'static [&'static str] = &[redis_key::SERVICE];
    type Args<'a> = Args;
    type Output<'a> = i64;

    fn check(args: &Self::Args<'_>) -> Result<(), FnError> {
        match args.spend.checked_neg() {
            Some(_) => Ok(()),
            None => Err(FnError::bad_args("spend: out of range")),
        }
    }

    fn run<'a>(ctx: &mut Context<'_>, args: Self::Args<'a>) -> Result<Self::Output<'a>, FnError> {
        let spend = args.spend.checked_neg().ok_or(FnError::bad_args("spend: out of range"))?;
        with_redis(ctx, |redis| {
            let mut text = [0; 24];
            redis.integer(&[b"INCRBY", args.id.0.as_bytes(), decimal(spend, &mut text)])?;
            get_integer(redis, &args.id)
        })
    }
}
