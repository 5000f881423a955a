//! `download_file`: GETs an object from the configured bucket and returns its size and SHA-256
//! (the worker writes no files). A missing object is a `Failed` error (500) carrying S3's
//! `NoSuchKey: ...`: the function ran and the service worked, the object just is not there.
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::s3_object::{self, BUFFER, MAX_OBJECT, TIMEOUT_MS, with_s3};
use crate::function::{Context, FnError, Function};
use crate::memory;

pub struct DownloadFile;

#[derive(Serialize, Deserialize, Debug)]
pub struct Args<'a> {
    pub file: &'a str,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
pub struct Output {
    pub bytes: u32,
    /// Lowercase hex.
    pub sha256: heapless::String<64>,
}

impl Function for DownloadFile {
    const NAME: &'static str = "download_file";
    const SUMMARY: &'static str = "GET an object from the configured S3 bucket; its size and SHA-256";
    const ARGS: &'static str = "{file: string (<= 256 bytes; objects <= 32768 bytes)}";
    const OUTPUT: &'static str = "{bytes: integer, sha256: string (hex)}";
    const EXAMPLE: &'static str = r#"{"file": "hello.txt"}"#;
    const SERVICES: &'static [&'static str] = &[s3_object::SERVICE];
    type Args<'a> = Args<'a>;
    type Output<'a> = Output;

    fn check(args: &Args<'_>) -> Result<(), FnError> {
        s3_object::check_file(args.file)
    }

    fn run<'a>(ctx: &mut Context<'_>, args: Self::Args<'a>) -> Result<Self::Output<'a>, FnError> {
        s3_object::check_file(args.file)?;
        let mut buf = memory::vec_filled(BUFFER, 0u8)?;
        let body = with_s3(ctx, |s3, net, addr| s3.get(net, addr, args.file, &mut buf, MAX_OBJECT, TIMEOUT_MS))?;
        let object = &buf[body];
        Ok(Output { bytes: object.len() as u32, sha256: crate::hex::encode(&Sha256::digest(object)) })
    }
}
