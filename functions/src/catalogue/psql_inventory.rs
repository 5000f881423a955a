//! `psql_inventory`: lists the car dealer's inventory in the original's words, one line per car
//! (with its four trailing spaces) and the total in stock.
use alloc::string::String;
use core::fmt::Write as _;

use super::psql::{self, Ignored, with_postgres};
use crate::function::{Context, FnError, Function};
use crate::memory;
use crate::net::ServiceError;

pub struct PsqlInventory;

const QUERY: &str = "SELECT car_make, car_model, car_model_year, number_in_stock, id FROM inventory ORDER BY id";
/// Longest line for one car; longer makes or models are a protocol error rather than a cut line.
const MAX_LINE: usize = 256;

impl Function for PsqlInventory {
    const NAME: &'static str = "psql_inventory";
    const SUMMARY: &'static str = "Lists the inventory table of the configured PostgreSQL database";
    const ARGS: &'static str = "{a} (ignored; any JSON or none)";
    const OUTPUT: &'static str =
        "\"<id>) <make> <model> <year>: <n> in stock    \" per car, then \"Total cars in stock: <sum>\"";
    const EXAMPLE: &'static str = r#"{"a": 1}"#;
    const SERVICES: &'static [&'static str] = &[psql::SERVICE];
    type Args<'a> = Ignored;
    type Output<'a> = String;

    fn run<'a>(ctx: &mut Context<'_>, _args: Self::Args<'a>) -> Result<Self::Output<'a>, FnError> {
        let mut out = String::new();
        let mut total: i64 = 0;
        let mut oom = false;
        with_postgres(ctx, |pg| {
            pg.query(QUERY, |row| {
                let in_stock = row.text(3)?;
                let n: i64 =
                    in_stock.parse().map_err(|_| ServiceError::protocol("protocol error: stock not an integer"))?;
                total = total.saturating_add(n);
                let mut line = heapless::String::<MAX_LINE>::new();
                write!(
                    line,
                    "{}) {} {} {}: {} in stock    ",
                    row.text(4)?,
                    row.text(0)?,
                    row.text(1)?,
                    row.text(2)?,
                    n
                )
                .map_err(|_| ServiceError::protocol("protocol error: a car's line is too long"))?;
                if memory::push_str(&mut out, &line).is_err() {
                    oom = true;
                }
                Ok(())
            })
            .map(|_| ())
        })?;
        let mut last = heapless::String::<48>::new();
        let _ = write!(last, "Total cars in stock: {total}");
        if oom {
            return Err(FnError::out_of_memory("the worker's memory arena is exhausted"));
        }
        memory::push_str(&mut out, &last)?;
        Ok(out)
    }
}
