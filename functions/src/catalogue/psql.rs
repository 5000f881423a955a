//! What the PostgreSQL functions share: the service they use and the session.
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::clients::postgres::Postgres;
use crate::function::{Context, FnError};
use crate::net::ServiceError;

/// The service both functions need (`[services.postgres]`: address, user, password, database).
pub const SERVICE: &str = "postgres";
/// Connect, authenticate and the statement must finish within this.
pub const TIMEOUT_MS: u32 = 5_000;

/// Runs `body` in a session with the invocation's PostgreSQL, turning client errors into the
/// function's (the server's text goes to the context for the runner to report).
pub fn with_postgres<T>(
    ctx: &mut Context<'_>,
    body: impl FnOnce(&mut Postgres<'_>) -> Result<T, ServiceError>,
) -> Result<T, FnError> {
    let result = {
        let (service, net) = ctx.service(SERVICE)?;
        let service = service.clone();
        Postgres::connect(net, &service, TIMEOUT_MS).and_then(|mut pg| body(&mut pg))
    };
    result.map_err(|e| ctx.fail(e))
}

/// Arguments that are ignored: the original's load generator sent `{a}`, but any JSON (or none)
/// is accepted and nothing travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ignored;

impl Serialize for Ignored {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_unit()
    }
}

impl<'de> Deserialize<'de> for Ignored {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            serde::de::IgnoredAny::deserialize(d)?;
        } else {
            <()>::deserialize(d)?;
        }
        Ok(Ignored)
    }
}
