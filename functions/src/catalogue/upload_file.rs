//! `upload_file`: PUTs an object to the configured bucket, as the original's S3 workload did
//! with files from the worker's initramfs.
use serde::{Deserialize, Serialize};

use super::s3_object::{self, BUFFER, MAX_OBJECT, TIMEOUT_MS, with_s3};
use crate::function::{Context, FnError, Function};
use crate::memory;

pub struct UploadFile;

#[derive(Serialize, Deserialize, Debug)]
pub struct Args<'a> {
    /// The object's key, and without `data` the sample file to send.
    pub file: &'a str,
    /// The object's content, if not a sample file.
    #[serde(default)]
    pub data: Option<&'a str>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
pub struct Output {
    pub bytes: u32,
    /// The object's ETag as S3 returned it, without its quotes (the MD5 of the content on most
    /// servers).
    pub etag: heapless::String<80>,
}

impl UploadFile {
    fn content<'a>(args: &Args<'a>) -> Result<&'a [u8], FnError> {
        s3_object::check_file(args.file)?;
        match args.data {
            Some(data) if data.len() > MAX_OBJECT => Err(FnError::bad_args("data: must be at most 32768 bytes")),
            Some(data) => Ok(data.as_bytes()),
            None => s3_object::sample(args.file).ok_or(FnError::bad_args(
                "file: not a sample file (hello.txt, inventory.csv, noise.bin); give data to upload other names",
            )),
        }
    }
}

impl Function for UploadFile {
    const NAME: &'static str = "upload_file";
    const SUMMARY: &'static str = "PUT an object to the configured S3 bucket: data, or a sample file of the image";
    const ARGS: &'static str = "{file: string (<= 256 bytes; without data: hello.txt | inventory.csv | noise.bin), \
                                data?: string (<= 32768 bytes)}";
    const OUTPUT: &'static str = "{bytes: integer, etag: string}";
    const EXAMPLE: &'static str = r#"{"file": "hello.txt"}"#;
    const SERVICES: &'static [&'static str] = &[s3_object::SERVICE];
    type Args<'a> = Args<'a>;
    type Output<'a> = Output;

    fn check(args: &Args<'_>) -> Result<(), FnError> {
        Self::content(args).map(|_| ())
    }

    fn run<'a>(ctx: &mut Context<'_>, args: Self::Args<'a>) -> Result<Self::Output<'a>, FnError> {
        let content = Self::content(&args)?;
        let mut buf = memory::vec_filled(BUFFER, 0u8)?;
        let etag = with_s3(ctx, |s3, net, addr| s3.put(net, addr, args.file, content, &mut buf, TIMEOUT_MS))?;
        let mut unquoted = heapless::String::new();
        let _ = unquoted.push_str(etag.trim_matches('"'));
        Ok(Output { bytes: content.len() as u32, etag: unquoted })
    }
}
