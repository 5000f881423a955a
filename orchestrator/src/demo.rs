//! `microfaas demo`: boots the embedded default in-process on free ports, invokes every catalogue
//! function once with its example, prints a table, and shuts everything down.
use std::time::Duration;

use crate::client::{Client, Invocation};
use crate::config::Config;
use crate::pool::WorkerState;
use crate::server::Orchestrator;

/// One line of the demo's table.
#[derive(Debug, Clone)]
pub struct Row {
    pub function: &'static str,
    pub status: String,
    pub worker: String,
    pub boot: Option<f64>,
    pub exec: Option<f64>,
    pub total: Option<f64>,
    pub output: String,
    pub ok: bool,
}

/// The demo's config: the embedded default with `workers` QEMU workers on free ports.
pub fn config(workers: usize) -> Config {
    let mut config = Config::embedded().with_qemu_workers(workers);
    config.http.set_port(0);
    config.worker_listen.set_port(0);
    config
}

/// Runs the demo; the rows are in catalogue order. Every worker is off when this returns.
pub async fn run(config: &Config) -> Result<Vec<Row>, Box<dyn std::error::Error>> {
    let orchestrator = Orchestrator::start(config).await?;
    let client = Client::new(&orchestrator.url(), Some(call_timeout(config)));
    // All at once: with fewer workers than functions the rest wait in the queue. Data-plane
    // functions run only when their services are configured.
    let calls: Vec<_> = functions::CATALOGUE
        .iter()
        .filter(|entry| entry.services.iter().all(|s| config.services.contains_key(*s)))
        .map(|entry| {
            let client = client.clone();
            tokio::task::spawn_blocking(move || (entry.name, client.invoke(entry.name, entry.example)))
        })
        .collect();
    let mut rows = Vec::new();
    for call in calls {
        let (function, answer) = call.await?;
        rows.push(match answer {
            Ok(answer) => row(function, &answer),
            Err(e) => Row {
                function,
                status: "error".into(),
                worker: "-".into(),
                boot: None,
                exec: None,
                total: None,
                output: e.to_string(),
                ok: false,
            },
        });
    }
    let still_on: Vec<_> =
        orchestrator.shutdown().await.into_iter().filter(|w| w.state != WorkerState::Off || w.pid.is_some()).collect();
    if !still_on.is_empty() {
        return Err(format!("workers not off after shutdown: {still_on:?}").into());
    }
    Ok(rows)
}

fn row(function: &'static str, answer: &Invocation) -> Row {
    Row {
        function,
        status: answer.status.to_string(),
        worker: answer.worker.clone().unwrap_or_else(|| "-".into()),
        boot: answer.boot,
        exec: answer.exec,
        total: answer.duration,
        output: truncate(&answer.body, 50),
        ok: answer.is_ok(),
    }
}

/// `text` cut to `max` characters, with an ellipsis when cut.
pub fn truncate(text: &str, max: usize) -> String {
    let one_line = text.replace('\n', " ");
    if one_line.chars().count() <= max {
        return one_line;
    }
    let mut cut: String = one_line.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// The table, aligned.
pub fn table(rows: &[Row]) -> String {
    let secs = |s: Option<f64>| s.map_or_else(|| "-".into(), |s| format!("{s:.3}"));
    let header = ["function", "status", "worker", "boot s", "exec s", "total s", "output"].map(String::from);
    let mut lines = vec![header.to_vec()];
    for r in rows {
        lines.push(vec![
            r.function.to_string(),
            r.status.clone(),
            r.worker.clone(),
            secs(r.boot),
            secs(r.exec),
            secs(r.total),
            r.output.clone(),
        ]);
    }
    let widths: Vec<usize> =
        (0..header.len()).map(|i| lines.iter().map(|l| l[i].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for line in &lines {
        let cells: Vec<String> = line.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// A generous client timeout for one demo call.
pub fn call_timeout(config: &Config) -> Duration {
    config.invoke_timeout() + config.boot_timeout() * 4
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_outputs_are_cut_to_fifty_characters() {
        let cut = truncate(&"x".repeat(80), 50);
        assert_eq!(cut.chars().count(), 50);
        assert!(cut.ends_with('…'));
        assert_eq!(truncate("short", 50), "short");
    }

    #[test]
    fn the_table_aligns_columns() {
        let r = Row {
            function: "echo",
            status: "200".into(),
            worker: "w0".into(),
            boot: Some(0.5),
            exec: Some(0.000_01),
            total: Some(0.7),
            output: "{}".into(),
            ok: true,
        };
        let t = table(&[r]);
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[0].starts_with("function  status  worker  boot s"), "{t}");
        assert!(lines[1].starts_with("echo      200     w0      0.500"), "{t}");
    }

    #[test]
    fn the_demo_uses_free_ports() {
        let c = config(3);
        assert_eq!((c.http.port(), c.worker_listen.port(), c.workers.len()), (0, 0, 3));
    }
}
