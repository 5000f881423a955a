//! Fake Kafka brokers for the failure modes a real one will not show on demand: a stall, garbage,
//! an early close, a chosen error code.
use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

/// How a fake broker answers each request.
#[derive(Clone, Copy)]
pub enum Answer {
    /// Holds the connection open without a word.
    Stall,
    /// Sends these bytes as they are, then closes.
    Raw(&'static [u8]),
    /// Sends a well-framed response (with the request's correlation id) holding this body.
    Body(fn() -> Vec<u8>),
}

/// A listener answering every request of every connection with `answer`.
pub fn fake_broker(answer: Answer) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
                loop {
                    let mut size = [0; 4];
                    if conn.read_exact(&mut size).is_err() {
                        return;
                    }
                    let mut request = vec![0; i32::from_be_bytes(size) as usize];
                    if conn.read_exact(&mut request).is_err() {
                        return;
                    }
                    match answer {
                        Answer::Stall => std::thread::sleep(Duration::from_secs(10)),
                        Answer::Raw(bytes) => {
                            let _ = conn.write_all(bytes);
                            return;
                        }
                        Answer::Body(body) => {
                            let body = body();
                            let mut frame = ((body.len() + 4) as i32).to_be_bytes().to_vec();
                            frame.extend_from_slice(&request[4..8]); // correlation id
                            frame.extend_from_slice(&body);
                            let _ = conn.write_all(&frame);
                        }
                    }
                }
            });
        }
    });
    port
}

/// A Produce v3 response for topic "t", partition 0, with `error`.
pub fn produce_response(error: i16) -> Vec<u8> {
    let mut b = vec![0, 0, 0, 1, 0, 1, b't', 0, 0, 0, 1, 0, 0, 0, 0];
    b.extend_from_slice(&error.to_be_bytes());
    b.extend_from_slice(&(-1i64).to_be_bytes());
    b.extend_from_slice(&(-1i64).to_be_bytes());
    b.extend_from_slice(&0i32.to_be_bytes());
    b
}
