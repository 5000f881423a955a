//! A fake server for the failure modes a real one cannot be made to show: one that stalls, and one
//! that answers with bytes of our choosing (garbage, another protocol, a truncated reply).
use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

/// A listener on loopback that answers every connection with `reply`, or holds it open silently;
/// returns its port.
pub fn fake_server(reply: Option<&'static [u8]>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let mut buf = [0; 4096];
            let _ = conn.read(&mut buf);
            match reply {
                Some(reply) => {
                    // Answer, end our side, and drain theirs: closing with unread bytes would
                    // reset the connection and could discard the answer in flight.
                    let _ = conn.write_all(reply);
                    let _ = conn.shutdown(std::net::Shutdown::Write);
                    let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
                    let _ = std::io::copy(&mut conn, &mut std::io::sink());
                }
                None => std::thread::sleep(Duration::from_secs(30)),
            }
        }
    });
    port
}

/// [`fake_server`]'s `host:port`, for a service's `address`.
pub fn fake_address(reply: Option<&'static [u8]>) -> String {
    format!("127.0.0.1:{}", fake_server(reply))
}
