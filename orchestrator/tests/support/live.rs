//! An orchestrator with real QEMU workers on free ports and one configured service, as the
//! data-plane worker tests drive it.
use std::sync::Mutex;
use std::time::Duration;

use orchestrator::client::{Client, Invocation};
use orchestrator::config::ServiceConfig;
use orchestrator::pool::WorkerState;
use orchestrator::{Config, Orchestrator};
use serde_json::Value;

/// One VM-using test at a time (two cores and TCG leave no room for parallel VMs).
pub static SERIAL: Mutex<()> = Mutex::new(());

pub struct Live {
    runtime: tokio::runtime::Runtime,
    orchestrator: Option<Orchestrator>,
    pub client: Client,
}

impl Live {
    /// `workers` QEMU workers, `service` configured as `[services.<name>]`, invocations timing out
    /// after `invoke_timeout_secs`.
    pub fn start(workers: usize, name: &str, service: ServiceConfig, invoke_timeout_secs: f64) -> Live {
        let _ = env_logger::builder().is_test(true).try_init();
        let mut config = Config::embedded().with_qemu_workers(workers);
        config.http.set_port(0);
        config.worker_listen.set_port(0);
        config.log_dir = Some(config.log_dir().join("tests"));
        config.invoke_timeout_secs = invoke_timeout_secs;
        config.services.insert(name.into(), service);
        let missing: Vec<_> =
            [config.kernel_path(), config.initrd_path()].into_iter().filter(|p| !p.is_file()).collect();
        assert!(missing.is_empty(), "worker artifacts missing: {missing:?}; run `cargo xtask artifacts`");
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let orchestrator = runtime.block_on(Orchestrator::start(&config)).unwrap_or_else(|e| panic!("{e}"));
        let client = Client::new(&orchestrator.url(), Some(Duration::from_secs(120)));
        Live { runtime, orchestrator: Some(orchestrator), client }
    }

    pub fn url(&self) -> String {
        self.orchestrator.as_ref().unwrap().url()
    }

    pub fn post(&self, name: &str, body: Value) -> Invocation {
        self.client.invoke(name, &body.to_string()).unwrap()
    }

    /// Shuts down and checks every QEMU process is gone.
    pub fn stop(mut self) {
        let orchestrator = self.orchestrator.take().unwrap();
        let last = self.runtime.block_on(orchestrator.shutdown());
        assert!(last.iter().all(|w| w.state == WorkerState::Off && w.pid.is_none()), "{last:?}");
    }
}

/// A service at `address` with nothing else set.
pub fn service_at(address: &str) -> ServiceConfig {
    ServiceConfig {
        address: address.to_string(),
        user: None,
        password: None,
        database: None,
        bucket: None,
        region: None,
    }
}
