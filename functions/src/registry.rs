//! The catalogue: every compiled-in function, type-erased so the init can dispatch by name.
use crate::catalogue::*;
use crate::function::{Context, ErrorKind, FnError, Function};

/// The compiled-in functions. One line per function.
pub static CATALOGUE: &[Entry] = &[
    Entry::of::<Echo>(),
    Entry::of::<FloatOperations>(),
    Entry::of::<CascadingSha256>(),
    Entry::of::<CascadingMd5>(),
    Entry::of::<Pyaes>(),
    Entry::of::<HtmlGeneration>(),
    Entry::of::<Matmul>(),
    Entry::of::<Linpack>(),
    Entry::of::<ZlibDecompress>(),
    Entry::of::<RegexSearch>(),
    Entry::of::<RegexMatch>(),
    Entry::of::<RedisInsert>(),
    Entry::of::<RedisModify>(),
    Entry::of::<PsqlInventory>(),
    Entry::of::<PsqlPurchase>(),
    Entry::of::<UploadFile>(),
    Entry::of::<DownloadFile>(),
    Entry::of::<UploadKafka>(),
    Entry::of::<ReadKafka>(),
];

/// Decodes postcard arguments, checks them, runs the body and writes the postcard output into the
/// buffer; returns the output's length.
pub type RunFn = fn(&mut Context<'_>, &[u8], &mut [u8]) -> Result<usize, FnError>;

/// One function, erased to plain function pointers.
pub struct Entry {
    pub name: &'static str,
    pub summary: &'static str,
    pub args: &'static str,
    pub output: &'static str,
    pub example: &'static str,
    /// The configured services it needs.
    pub services: &'static [&'static str],
    pub run: RunFn,
    #[cfg(feature = "std")]
    pub args_from_json: fn(&serde_json::Value) -> Result<std::vec::Vec<u8>, crate::json::HostError>,
    #[cfg(feature = "std")]
    pub output_to_json: fn(&[u8]) -> Result<serde_json::Value, crate::json::HostError>,
}

impl Entry {
    pub const fn of<F: Function>() -> Entry {
        Entry {
            name: F::NAME,
            summary: F::SUMMARY,
            args: F::ARGS,
            output: F::OUTPUT,
            example: F::EXAMPLE,
            services: F::SERVICES,
            run: run_erased::<F>,
            #[cfg(feature = "std")]
            args_from_json: F::args_from_json,
            #[cfg(feature = "std")]
            output_to_json: F::output_to_json,
        }
    }
}

fn run_erased<F: Function>(ctx: &mut Context<'_>, args: &[u8], out: &mut [u8]) -> Result<usize, FnError> {
    let args: F::Args<'_> = postcard::from_bytes(args)
        .map_err(|_| FnError::bad_args("arguments do not decode as this function's argument type"))?;
    F::check(&args)?;
    let output = F::run(ctx, args)?;
    postcard::to_slice(&output, out)
        .map(|written| written.len())
        .map_err(|_| FnError::failed("output exceeds the frame size cap"))
}

/// The function called `name`, if it is compiled in.
pub fn find(name: &str) -> Result<&'static Entry, FnError> {
    CATALOGUE
        .iter()
        .find(|e| e.name == name)
        .ok_or(FnError { kind: ErrorKind::UnknownFunction, message: "no function of that name is compiled in" })
}

/// A fingerprint of the catalogue (names, argument/output shapes and services, FNV-1a 64). Worker and
/// orchestrator must agree on it, or the orchestrator could send arguments the worker misreads.
pub fn catalogue_hash() -> u64 {
    let mut h = Fnv::new();
    for e in CATALOGUE {
        for part in [e.name, e.args, e.output].iter().chain(e.services) {
            h.write(part.as_bytes());
            h.write(&[0]);
        }
    }
    h.0
}

struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique() {
        for (i, a) in CATALOGUE.iter().enumerate() {
            assert!(CATALOGUE[i + 1..].iter().all(|b| b.name != a.name), "{} twice", a.name);
        }
    }

    #[test]
    fn unknown_name_is_a_typed_error() {
        assert_eq!(find("nope").err().map(|e| e.kind), Some(ErrorKind::UnknownFunction));
        assert!(find("cascading_sha256").is_ok());
    }
}
