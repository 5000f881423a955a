//! The QEMU power backend: "power on" spawns a `microvm` guest booting our kernel and initramfs,
//! "power off" kills it. The guest ends the process itself on `reboot(2)` (QEMU's `-no-reboot`).
//!
//! [`QemuLaunch`] and [`QemuProcess`] are public on their own so the boot benchmark can spawn
//! workers exactly as the scheduler does.
use std::ffi::{OsStr, OsString};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::{BoxFuture, PowerBackend, PowerOn};
use crate::config::Config;

/// One worker's QEMU command line, built from config; spawn it as often as the worker boots.
#[derive(Debug, Clone)]
pub struct QemuLaunch {
    pub worker: String,
    pub program: OsString,
    pub args: Vec<OsString>,
    /// The worker's console (and QEMU's own stdout/stderr), appended across boots.
    pub console_log: PathBuf,
}

impl QemuLaunch {
    /// The launch of worker `worker` (an id from the config) connecting back to the worker
    /// listener on `orchestrator_port`. The host's TSC frequency is read from /proc/cpuinfo.
    pub fn from_config(config: &Config, worker: &str, orchestrator_port: u16) -> QemuLaunch {
        QemuLaunch::with_tsc_khz(config, worker, orchestrator_port, host_tsc_khz())
    }

    /// Like [`QemuLaunch::from_config`] with an explicit `tsc_early_khz` (None omits the word).
    pub fn with_tsc_khz(config: &Config, worker: &str, orchestrator_port: u16, tsc_khz: Option<u64>) -> QemuLaunch {
        let q = &config.qemu;
        let console_log = config.log_dir().join(format!("{worker}.log"));
        let mut append = q.cmdline.trim().to_string();
        if let Some(khz) = tsc_khz {
            append.push_str(&format!(" tsc_early_khz={khz}"));
        }
        append.push_str(&format!(
            " mfaas_id={worker} mfaas_orch={}:{orchestrator_port} mfaas_ip={} mfaas_gw={}",
            q.host_addr, q.guest_ip, q.gateway
        ));
        let mut args: Vec<OsString> = Vec::new();
        let mut push = |items: &[&OsStr]| args.extend(items.iter().map(|s| s.to_os_string()));
        push(&["-M".as_ref(), q.machine.as_ref()]);
        if q.kvm {
            push(&["-accel".as_ref(), "kvm".as_ref()]);
        }
        let memory = format!("{}M", q.memory_mib);
        push(&["-cpu".as_ref(), q.cpu.as_ref(), "-m".as_ref(), memory.as_ref()]);
        push(&["-nodefaults".as_ref(), "-no-user-config".as_ref(), "-nographic".as_ref(), "-no-reboot".as_ref()]);
        let (kernel, initrd) = (config.kernel_path(), config.initrd_path());
        push(&["-kernel".as_ref(), kernel.as_os_str(), "-initrd".as_ref(), initrd.as_os_str()]);
        push(&["-append".as_ref(), append.as_ref()]);
        push(&["-netdev".as_ref(), "user,id=n0".as_ref(), "-device".as_ref(), "virtio-net-device,netdev=n0".as_ref()]);
        let mut chardev = OsString::from("file,id=console,append=on,path=");
        chardev.push(qemu_opt_escape(console_log.as_os_str()));
        push(&["-chardev".as_ref(), chardev.as_ref(), "-serial".as_ref(), "chardev:console".as_ref()]);
        args.extend(q.extra_args.iter().map(OsString::from));
        QemuLaunch { worker: worker.to_string(), program: OsString::from(&q.binary), args, console_log }
    }

    /// The command line as one string, for logs (lossy for non-UTF-8 paths).
    pub fn command_line(&self) -> String {
        std::iter::once(&self.program).chain(&self.args).map(|a| a.to_string_lossy()).collect::<Vec<_>>().join(" ")
    }

    /// Empties the console log (the scheduler does this on a worker's first boot of a run).
    pub fn reset_log(&self) -> io::Result<()> {
        self.open_log(true).map(drop)
    }

    /// Starts the VM. Its console and QEMU's own output are appended to [`QemuLaunch::console_log`]
    /// after a marker line; stdin is null. The process is killed if the handle is dropped, and
    /// (through the parent-death signal) if the orchestrator dies. Needs a tokio runtime.
    ///
    /// Linux sends the parent-death signal when the *thread* that spawned the process ends: call
    /// this from a long-lived thread (an async task on a runtime worker, or the main thread), not
    /// from `spawn_blocking`, whose threads end when idle.
    pub fn spawn(&self) -> io::Result<QemuProcess> {
        let mut log = self.open_log(false)?;
        let stamp = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0);
        writeln!(log, "\n=== microfaas: powering on {} at unix time {stamp:.3} ===", self.worker)?;
        let mut cmd = tokio::process::Command::new(&self.program);
        cmd.args(&self.args)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            // Its own process group: a terminal's Ctrl-C reaches only us, and we power off in order.
            .process_group(0);
        // SAFETY: the closure runs between fork and exec and only makes one raw syscall (prctl),
        // which is async-signal-safe; it touches no locks or allocations.
        unsafe {
            cmd.pre_exec(|| {
                rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL))
                    .map_err(io::Error::from)
            });
        }
        let spawned_at = Instant::now();
        let child = cmd.spawn().map_err(|e| {
            io::Error::new(e.kind(), format!("cannot start {}: {e}", Path::new(&self.program).display()))
        })?;
        Ok(QemuProcess { pid: child.id(), child, spawned_at, console_log: self.console_log.clone() })
    }

    fn open_log(&self, truncate: bool) -> io::Result<File> {
        if let Some(dir) = self.console_log.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut options = OpenOptions::new();
        options.create(true);
        if truncate {
            options.write(true).truncate(true);
        } else {
            options.append(true);
        }
        options.open(&self.console_log).map_err(|e| {
            io::Error::new(e.kind(), format!("cannot open console log {}: {e}", self.console_log.display()))
        })
    }
}

/// A running (or exited, not yet dropped) worker VM.
#[derive(Debug)]
pub struct QemuProcess {
    child: tokio::process::Child,
    pid: Option<u32>,
    /// Taken immediately before the spawn: when "power" was applied.
    pub spawned_at: Instant,
    pub console_log: PathBuf,
}

impl QemuProcess {
    /// The QEMU process id (kept after exit, for messages).
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// Sends SIGKILL; does not wait.
    pub fn kill(&mut self) -> io::Result<()> {
        match self.child.start_kill() {
            // Already exited and reaped: nothing to kill.
            Err(e) if e.kind() == io::ErrorKind::InvalidInput => Ok(()),
            other => other,
        }
    }

    /// Waits for the process to exit. Cancel-safe.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        self.child.wait().await
    }

    /// The exit status if it has exited.
    pub fn try_exit(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Whether QEMU still runs.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

/// [`PowerBackend`] over one [`QemuLaunch`]: at most one QEMU process per worker at a time.
pub struct QemuPower {
    launch: QemuLaunch,
    process: Option<QemuProcess>,
    boots: u64,
}

impl QemuPower {
    pub fn new(launch: QemuLaunch) -> QemuPower {
        QemuPower { launch, process: None, boots: 0 }
    }

    pub fn launch(&self) -> &QemuLaunch {
        &self.launch
    }
}

impl PowerBackend for QemuPower {
    /// microvm has no power-off device; the guest runs with `-no-reboot`, so a reboot ends QEMU.
    fn off_by_reboot(&self) -> bool {
        true
    }

    fn power_on(&mut self) -> io::Result<PowerOn> {
        if let Some(p) = self.process.as_mut()
            && p.is_running()
        {
            return Err(io::Error::other(format!("{} is still running (pid {:?})", self.launch.worker, p.pid())));
        }
        if self.boots == 0 {
            self.launch.reset_log()?;
        }
        self.boots += 1;
        log::debug!("{}: {}", self.launch.worker, self.launch.command_line());
        let process = self.launch.spawn()?;
        let on = PowerOn { at: process.spawned_at, console_log: Some(process.console_log.clone()), pid: process.pid() };
        self.process = Some(process);
        Ok(on)
    }

    fn power_off(&mut self) -> io::Result<()> {
        match self.process.as_mut() {
            Some(p) => p.kill(),
            None => Ok(()),
        }
    }

    fn is_on(&mut self) -> bool {
        self.process.as_mut().is_some_and(QemuProcess::is_running)
    }

    fn until_off(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            if let Some(p) = self.process.as_mut() {
                match p.wait().await {
                    Ok(status) => log::debug!("{}: QEMU (pid {:?}) exited: {status}", self.launch.worker, p.pid()),
                    Err(e) => log::warn!("{}: waiting for QEMU failed: {e}", self.launch.worker),
                }
            }
        })
    }

    fn pid(&self) -> Option<u32> {
        self.process.as_ref().and_then(QemuProcess::pid)
    }

    fn console_log(&self) -> Option<PathBuf> {
        Some(self.launch.console_log.clone())
    }
}

/// QEMU option values separate with commas; a literal comma is written twice.
fn qemu_opt_escape(s: &OsStr) -> OsString {
    let mut out = Vec::with_capacity(s.len());
    for &b in s.as_bytes() {
        out.push(b);
        if b == b',' {
            out.push(b',');
        }
    }
    OsString::from_vec(out)
}

/// The host's CPU frequency in kHz from /proc/cpuinfo, for the guest's `tsc_early_khz` (under TCG
/// the guest often fails to calibrate its TSC). None when unknown.
pub fn host_tsc_khz() -> Option<u64> {
    static KHZ: OnceLock<Option<u64>> = OnceLock::new();
    *KHZ.get_or_init(|| std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|text| tsc_khz_from_cpuinfo(&text)))
}

/// The first `cpu MHz` line of a /proc/cpuinfo text, in kHz.
pub fn tsc_khz_from_cpuinfo(cpuinfo: &str) -> Option<u64> {
    let line = cpuinfo.lines().find(|l| l.starts_with("cpu MHz"))?;
    let mhz: f64 = line.split_once(':')?.1.trim().parse().ok()?;
    (mhz.is_finite() && mhz > 0.0).then(|| (mhz * 1000.0).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        let mut c = Config::embedded();
        c.artifacts = Some("/art".into());
        c.log_dir = Some("/logs".into());
        c
    }

    #[test]
    fn command_line_matches_the_documented_worker() {
        let launch = QemuLaunch::with_tsc_khz(&config(), "w1", 40000, Some(2_596_098));
        assert_eq!(
            launch.command_line(),
            "qemu-system-x86_64 -M microvm,x-option-roms=off,isa-serial=on,rtc=on,acpi=off -cpu max -m 32M \
             -nodefaults -no-user-config -nographic -no-reboot -kernel /art/bzImage -initrd /art/initramfs.cpio \
             -append console=ttyS0 reboot=t panic=-1 quiet noapic noapictimer tsc_early_khz=2596098 mfaas_id=w1 \
             mfaas_orch=10.0.2.2:40000 mfaas_ip=10.0.2.15/24 mfaas_gw=10.0.2.2 -netdev user,id=n0 \
             -device virtio-net-device,netdev=n0 -chardev file,id=console,append=on,path=/logs/w1.log \
             -serial chardev:console"
        );
        assert_eq!(launch.console_log, PathBuf::from("/logs/w1.log"));
    }

    #[test]
    fn kvm_memory_and_extra_args_come_from_config() {
        let mut c = config();
        c.qemu.kvm = true;
        c.qemu.memory_mib = 48;
        c.qemu.extra_args = vec!["-d".into(), "guest_errors".into()];
        c.log_dir = Some("/a,b".into());
        let line = QemuLaunch::with_tsc_khz(&c, "w0", 1, None).command_line();
        assert!(line.contains(" -accel kvm "), "{line}");
        assert!(line.contains(" -m 48M "), "{line}");
        assert!(line.ends_with(" -d guest_errors"), "{line}");
        assert!(!line.contains("tsc_early_khz"), "{line}");
        assert!(line.contains("path=/a,,b/w0.log"), "{line}");
    }

    #[test]
    fn cpu_mhz_is_read_from_cpuinfo() {
        let text = "processor\t: 0\nmodel name\t: X\ncpu MHz\t\t: 2596.098\ncache size\t: 1 KB\n";
        assert_eq!(tsc_khz_from_cpuinfo(text), Some(2_596_098));
        assert_eq!(tsc_khz_from_cpuinfo("processor : 0\n"), None);
        assert_eq!(tsc_khz_from_cpuinfo("cpu MHz : fast\n"), None);
    }

    #[tokio::test]
    async fn a_missing_binary_is_a_clear_error_and_the_log_is_written() {
        let dir = crate::testing::temp_dir("qemu-missing");
        let mut c = config();
        c.log_dir = Some(dir.path());
        c.qemu.binary = "/nonexistent/qemu".into();
        let mut power = QemuPower::new(QemuLaunch::with_tsc_khz(&c, "w0", 1, None));
        let err = power.power_on().unwrap_err().to_string();
        assert!(err.contains("/nonexistent/qemu"), "{err}");
        assert!(!power.is_on());
        assert!(std::fs::read_to_string(dir.path().join("w0.log")).unwrap().contains("powering on w0"));
    }

    #[tokio::test]
    async fn a_process_is_killed_and_reaped() {
        let dir = crate::testing::temp_dir("qemu-kill");
        let mut c = config();
        c.log_dir = Some(dir.path());
        // Any long-running program stands in for QEMU; it ignores the QEMU arguments' meaning.
        c.qemu.binary = "sleep".into();
        let mut launch = QemuLaunch::with_tsc_khz(&c, "w0", 1, None);
        launch.args = vec!["30".into()];
        let mut power = QemuPower::new(launch);
        let on = power.power_on().unwrap();
        assert!(on.pid.is_some() && power.is_on());
        assert!(power.power_on().is_err(), "a second power-on while running is refused");
        power.power_off().unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(5), power.until_off()).await.unwrap();
        assert!(!power.is_on());
        power.power_off().unwrap();
    }
}
