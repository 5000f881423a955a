//! What the S3 functions share: the service they use, the object size cap, the sample files
//! compiled into the image and the session.
use crate::clients::s3::{MAX_HEAD, S3};
use crate::function::{Context, FnError};
use crate::net::{Connector, ServiceError};

/// The service name both functions need (`[services.s3]`).
pub const SERVICE: &str = "s3";
/// Connect, request and response must finish within this.
pub const TIMEOUT_MS: u32 = 5_000;
/// Largest object uploaded or downloaded: the body and its response head fit one arena buffer,
/// and an upload's `data` fits an Invoke frame with room to spare.
pub const MAX_OBJECT: usize = 32 * 1024;
/// Longest object name.
pub const MAX_FILE: usize = 256;

/// The files `upload_file` sends when given no `data`, as the original uploaded files from the
/// worker's initramfs.
pub const SAMPLES: &[(&str, &[u8])] = &[
    ("hello.txt", include_bytes!("s3_files/hello.txt")),
    ("inventory.csv", include_bytes!("s3_files/inventory.csv")),
    ("noise.bin", include_bytes!("s3_files/noise.bin")),
];

/// The sample file called `name`.
pub fn sample(name: &str) -> Option<&'static [u8]> {
    SAMPLES.iter().find(|(n, _)| *n == name).map(|(_, bytes)| *bytes)
}

/// The `file` argument's checks, shared by both functions.
pub fn check_file(file: &str) -> Result<(), FnError> {
    if file.is_empty() || file.len() > MAX_FILE {
        return Err(FnError::bad_args("file: must be 1 to 256 bytes"));
    }
    Ok(())
}

/// Runs `body` with a signer for the invocation's S3 service and a connector, turning client
/// errors into the function's (the server's text goes to the context for the runner to report).
pub fn with_s3<T>(
    ctx: &mut Context<'_>,
    body: impl FnOnce(&S3<'_>, &mut dyn Connector, core::net::SocketAddrV4) -> Result<T, ServiceError>,
) -> Result<T, FnError> {
    let unix_time = ctx.unix_time();
    let result = {
        let (service, net) = ctx.service(SERVICE)?;
        let service = service.clone();
        S3::new(&service, unix_time).and_then(|s3| body(&s3, net, service.addr()))
    };
    result.map_err(|e| ctx.fail(e))
}

/// The response buffer: the largest object and its head.
pub const BUFFER: usize = MAX_OBJECT + MAX_HEAD;
