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
    /// The same, with a body chosen by the request's API key.
    ByApi(fn(i16) -> Vec<u8>),
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
                        Answer::Body(_) | Answer::ByApi(_) => {
                            let body = match answer {
                                Answer::ByApi(body) => body(i16::from_be_bytes([request[0], request[1]])),
                                Answer::Body(body) => body(),
                                _ => unreachable!(),
                            };
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

/// Topic "t", partition 0: the `[1 topic [1 partition ...]]` prefix of every response.
fn topic_t_partition_0() -> Vec<u8> {
    vec![0, 0, 0, 1, 0, 1, b't', 0, 0, 0, 1, 0, 0, 0, 0]
}

/// A broker whose topic "t" holds one record, "hello" at offset 0, and whose groups have
/// committed nothing: answers Produce, Fetch, Metadata, OffsetFetch and OffsetCommit as a broker
/// would.
pub fn one_record_broker(api: i16) -> Vec<u8> {
    match api {
        0 => produce_response(0),
        1 => {
            let mut batch = [0; 256];
            let len = functions::clients::kafka::record_batch(b"hello", &mut batch).unwrap();
            let mut b = 0i32.to_be_bytes().to_vec(); // throttle
            b.extend(topic_t_partition_0());
            b.extend_from_slice(&0i16.to_be_bytes());
            b.extend_from_slice(&1i64.to_be_bytes()); // high watermark
            b.extend_from_slice(&1i64.to_be_bytes()); // last stable offset
            b.extend_from_slice(&(-1i32).to_be_bytes()); // aborted transactions: null
            b.extend_from_slice(&(len as i32).to_be_bytes());
            b.extend_from_slice(&batch[..len]);
            b
        }
        3 => {
            // throttle, no brokers, null cluster id, controller 0, topic "t" without error.
            let mut b = vec![0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, b't', 0];
            b.extend_from_slice(&0i32.to_be_bytes()); // no partitions
            b
        }
        8 => {
            let mut b = topic_t_partition_0();
            b.extend_from_slice(&0i16.to_be_bytes());
            b
        }
        9 => {
            let mut b = topic_t_partition_0();
            b.extend_from_slice(&(-1i64).to_be_bytes());
            b.extend_from_slice(&(-1i16).to_be_bytes());
            b.extend_from_slice(&0i16.to_be_bytes());
            b
        }
        _ => Vec::new(),
    }
}
