//! `microfaas`: see `microfaas --help`.
fn main() -> std::process::ExitCode {
    orchestrator::cli::main()
}
