//! The `microfaas` command line.
use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::client::{Client, DEFAULT_URL};
use crate::config::Config;
use crate::server::Orchestrator;

const CONFIG_HELP: &str = concat!(
    "CONFIG FILE (TOML): a file names only the keys it changes; the rest come from this embedded \
     default (tables merge key by key, the `workers` array is replaced whole):\n\n",
    include_str!("config/default.toml")
);

/// MicroFaaS: functions as a service on tiny, energy-proportional workers
///
/// Each invocation powers an off worker on (a QEMU microvm here), runs there alone, and powers it
/// off again. Start with `microfaas demo`, or `microfaas serve` and `microfaas invoke`.
#[derive(Parser, Debug)]
#[command(name = "microfaas", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    Serve(ServeArgs),
    Invoke(InvokeArgs),
    /// List the compiled-in functions with their arguments, output and an example (no server needed)
    Functions,
    Demo(DemoArgs),
}

/// Run the orchestrator until Ctrl-C or SIGTERM
///
/// Without a config file: HTTP API on 127.0.0.1:8080, workers connect to 127.0.0.1:63302, two
/// QEMU workers w0 and w1 (TCG), all off until an invocation powers one on. Ctrl-C or SIGTERM
/// stops the API, powers every worker off and exits. Worker consoles go to
/// target/microfaas/logs/<id>.log, never the terminal; RUST_LOG sets the log level (default info).
#[derive(Args, Debug, Default)]
#[command(after_long_help = CONFIG_HELP)]
pub struct ServeArgs {
    /// TOML config file laid over the embedded default (format below with --help)
    #[arg(long, short, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Replace the configured workers with N QEMU workers w0..w{N-1} [default: 2]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub workers: Option<u16>,
    /// HTTP API address [default: 127.0.0.1:8080]
    #[arg(long, value_name = "ADDR")]
    pub http: Option<SocketAddr>,
    /// Port workers connect to [default: 63302]
    #[arg(long, value_name = "PORT")]
    pub worker_port: Option<u16>,
    /// Kernel + initramfs directory [default: $MICROFAAS_ARTIFACTS, else target/microfaas/x86_64-microvm]
    #[arg(long, value_name = "DIR")]
    pub artifacts: Option<PathBuf>,
    /// Worker console log directory [default: target/microfaas/logs]
    #[arg(long, value_name = "DIR")]
    pub log_dir: Option<PathBuf>,
    /// Run QEMU with KVM instead of TCG
    #[arg(long)]
    pub kvm: bool,
    /// Print the effective config as TOML and exit
    #[arg(long)]
    pub print_config: bool,
}

impl ServeArgs {
    /// The config file (or the embedded default) with the command-line overrides applied.
    pub fn config(&self) -> Result<Config, crate::config::ConfigError> {
        let mut config = match &self.config {
            Some(path) => Config::load(path)?,
            None => Config::embedded(),
        };
        if let Some(n) = self.workers {
            config = config.with_qemu_workers(n.into());
        }
        if let Some(http) = self.http {
            config.http = http;
        }
        if let Some(port) = self.worker_port {
            config.worker_listen.set_port(port);
        }
        if let Some(dir) = &self.artifacts {
            config.artifacts = Some(dir.clone());
        }
        if let Some(dir) = &self.log_dir {
            config.log_dir = Some(dir.clone());
        }
        if self.kvm {
            config.qemu.kvm = true;
        }
        config.validate()?;
        Ok(config)
    }
}

/// Invoke a function through a running orchestrator and print its JSON output
///
/// The output goes to stdout. On an error the server's message goes to stderr (with the HTTP
/// status) and the exit status is 1.
#[derive(Args, Debug)]
pub struct InvokeArgs {
    /// The function (see `microfaas functions`)
    pub name: String,
    /// Arguments as JSON [default: read from stdin]
    #[arg(long, value_name = "ARGS")]
    pub json: Option<String>,
    /// The orchestrator's API
    #[arg(long, env = "MICROFAAS_URL", default_value = DEFAULT_URL)]
    pub url: String,
    /// Give up after this many seconds
    #[arg(long, value_name = "SECS", default_value_t = 120.0)]
    pub timeout: f64,
    /// Also print the call id, worker and timings on stderr
    #[arg(long, short)]
    pub verbose: bool,
}

/// Invoke every function once on real workers and print a table
///
/// Starts the orchestrator in-process with the embedded default on free ports, invokes every
/// compiled-in function once with its example arguments (all at once: extra invocations queue),
/// prints function, status, worker, boot/exec/total seconds and output, then powers every worker
/// off. Exits 1 if any invocation failed.
#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Number of QEMU workers
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub workers: u16,
}

/// Runs the command line; the process's exit status.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_level = match cli.command {
        Command::Serve(_) | Command::Demo(_) => "warn,orchestrator=info,microfaas=info",
        Command::Invoke(_) | Command::Functions => "warn",
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(default_level))
        .format_timestamp_millis()
        .init();
    match cli.command {
        Command::Serve(args) => serve(&args),
        Command::Invoke(args) => invoke(&args),
        Command::Functions => {
            print!("{}", functions_listing());
            ExitCode::SUCCESS
        }
        Command::Demo(args) => demo(&args),
    }
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build()
}

fn serve(args: &ServeArgs) -> ExitCode {
    let config = match args.config() {
        Ok(config) => config,
        Err(e) => return fail(e),
    };
    if args.print_config {
        print!("{}", config.to_toml());
        return ExitCode::SUCCESS;
    }
    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(e) => return fail(e),
    };
    runtime.block_on(async {
        let orchestrator = match Orchestrator::start(&config).await {
            Ok(o) => o,
            Err(e) => return fail(e),
        };
        match orchestrator.serve_until_signal().await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(e),
        }
    })
}

fn invoke(args: &InvokeArgs) -> ExitCode {
    let body = match &args.json {
        Some(json) => json.clone(),
        None => {
            let mut text = String::new();
            if let Err(e) = std::io::stdin().read_to_string(&mut text) {
                return fail(format!("reading the arguments from stdin: {e}"));
            }
            text
        }
    };
    let Ok(timeout) = Duration::try_from_secs_f64(args.timeout) else {
        return fail("--timeout must be a positive number of seconds");
    };
    let answer = match Client::new(&args.url, Some(timeout)).invoke(&args.name, &body) {
        Ok(answer) => answer,
        Err(e) => return fail(format!("{e} (is `microfaas serve` running?)")),
    };
    if args.verbose {
        let s = |v: Option<f64>| v.map_or_else(|| "-".into(), |v| format!("{v:.3}s"));
        eprintln!(
            "call {} worker {} status {} queue {} boot {} exec {} total {}",
            answer.call_id.map_or_else(|| "-".into(), |c| c.to_string()),
            answer.worker.as_deref().unwrap_or("-"),
            answer.status,
            s(answer.queue),
            s(answer.boot),
            s(answer.exec),
            s(answer.duration)
        );
    }
    if answer.is_ok() {
        println!("{}", answer.body);
        ExitCode::SUCCESS
    } else {
        fail(format!("HTTP {}: {}", answer.status, answer.body))
    }
}

/// The text of `microfaas functions`.
pub fn functions_listing() -> String {
    let mut out = String::new();
    for e in functions::CATALOGUE {
        out.push_str(&format!("{}\n  {}\n  args:    {}\n  output:  {}\n", e.name, e.summary, e.args, e.output));
        if !e.services.is_empty() {
            let tables: Vec<_> = e.services.iter().map(|s| format!("[services.{s}]")).collect();
            out.push_str(&format!("  needs:   {} in the config\n", tables.join(", ")));
        }
        out.push_str(&format!("  example: microfaas invoke {} --json '{}'\n\n", e.name, e.example));
    }
    out
}

fn demo(args: &DemoArgs) -> ExitCode {
    let config = crate::demo::config(args.workers.into());
    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(e) => return fail(e),
    };
    match runtime.block_on(crate::demo::run(&config)) {
        Ok(rows) => {
            print!("{}", crate::demo::table(&rows));
            let skipped: Vec<&str> = functions::CATALOGUE
                .iter()
                .filter(|e| !e.services.iter().all(|s| config.services.contains_key(*s)))
                .map(|e| e.name)
                .collect();
            if !skipped.is_empty() {
                println!("not run (their [services] are not configured): {}", skipped.join(", "));
            }
            let failed = rows.iter().filter(|r| !r.ok).count();
            if failed == 0 { ExitCode::SUCCESS } else { fail(format!("{failed} of {} invocations failed", rows.len())) }
        }
        Err(e) => fail(e),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_overrides_apply_over_the_default() {
        let cli = Cli::try_parse_from([
            "microfaas",
            "serve",
            "--workers",
            "3",
            "--http",
            "127.0.0.1:9999",
            "--worker-port",
            "7000",
            "--kvm",
        ])
        .unwrap();
        let Command::Serve(args) = cli.command else { panic!() };
        let c = args.config().unwrap();
        assert_eq!(c.workers.len(), 3);
        assert_eq!(c.http.port(), 9999);
        assert_eq!(c.worker_listen, "127.0.0.1:7000".parse().unwrap());
        assert!(c.qemu.kvm);
    }

    #[test]
    fn zero_workers_are_refused() {
        assert!(Cli::try_parse_from(["microfaas", "serve", "--workers", "0"]).is_err());
    }

    #[test]
    fn the_listing_shows_every_function_with_an_example() {
        let text = functions_listing();
        for e in functions::CATALOGUE {
            assert!(text.contains(e.name) && text.contains(e.example));
        }
    }

    #[test]
    fn serve_help_documents_the_config_file() {
        let help = Cli::command().find_subcommand_mut("serve").unwrap().render_long_help().to_string();
        assert!(help.contains("worker_listen") && help.contains("[[workers]]"), "{help}");
    }
}
