//! `psql_purchase`: sells one car of the given id. Unlike the original's read-then-write, which
//! raced, one conditional UPDATE decrements atomically, so concurrent buyers never sell below zero.
use core::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::psql::{self, with_postgres};
use crate::function::{Context, FnError, Function};
use crate::net::ServiceError;

pub struct PsqlPurchase;

#[derive(Serialize, Deserialize, Debug)]
pub struct Args {
    pub id: i64,
}

impl Function for PsqlPurchase {
    const NAME: &'static str = "psql_purchase";
    const SUMMARY: &'static str = "Sells one car of the inventory (atomic decrement) on the configured PostgreSQL";
    const ARGS: &'static str = "{id: integer}";
    const OUTPUT: &'static str = "true if a car was sold, false if none was in stock or the id is unknown";
    const EXAMPLE: &'static str = r#"{"id": 1}"#;
    const SERVICES: &'static [&'static str] = &[psql::SERVICE];
    type Args<'a> = Args;
    type Output<'a> = bool;

    fn run<'a>(ctx: &mut Context<'_>, args: Self::Args<'a>) -> Result<Self::Output<'a>, FnError> {
        // The id is an i64 formatted here, never text spliced from the request.
        let mut sql = heapless::String::<160>::new();
        let _ = write!(
            sql,
            "UPDATE inventory SET number_in_stock = number_in_stock - 1 WHERE id = {} AND number_in_stock > 0",
            args.id
        );
        with_postgres(ctx, |pg| match pg.query(&sql, |_| Ok(()))?.as_str() {
            "UPDATE 1" => Ok(true),
            "UPDATE 0" => Ok(false),
            _ => Err(ServiceError::protocol("protocol error: unexpected command tag for UPDATE")),
        })
    }
}
