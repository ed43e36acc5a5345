//! Hostile targets: a tiny HTTP server on loopback that answers too much,
//! too slowly, not at all, or with garbage. Every step must end within its
//! timeout with a clear error, and nothing is buffered past the limit.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::{drill_file, firedrill, read_record};
use serde_json::Value;

/// No connection of the hostile server lives longer than this.
const SERVER_LIMIT: Duration = Duration::from_secs(30);

/// What the hostile server does with one connection, after reading the
/// request head. Returns when done or when the client has gone.
type Behaviour = fn(&mut TcpStream, &AtomicU64);

/// A hostile HTTP server on 127.0.0.1: every connection gets `behave`, on
/// its own thread. `written` counts the body bytes it managed to send.
struct Hostile {
    url: String,
    written: Arc<AtomicU64>,
}

fn serve(behave: Behaviour) -> Hostile {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let written = Arc::new(AtomicU64::new(0));
    let counter = written.clone();
    std::thread::spawn(move || {
        // A handful of connections at most: one per attempt of one step.
        for stream in listener.incoming().take(8) {
            let Ok(mut stream) = stream else { return };
            let counter = counter.clone();
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(SERVER_LIMIT));
                let _ = stream.set_write_timeout(Some(SERVER_LIMIT));
                read_request_head(&mut stream);
                behave(&mut stream, &counter);
            });
        }
    });
    Hostile { url, written }
}

fn read_request_head(stream: &mut TcpStream) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 64 * 1024 {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
}

/// Sends `chunk` over and over (at most `total` bytes, within the server's
/// time limit) until the client stops reading.
fn pour(stream: &mut TcpStream, written: &AtomicU64, chunk: &[u8], total: u64) {
    let started = Instant::now();
    while written.load(Ordering::Relaxed) < total && started.elapsed() < SERVER_LIMIT {
        if stream.write_all(chunk).is_err() {
            return;
        }
        written.fetch_add(chunk.len() as u64, Ordering::Relaxed);
    }
}

/// One step against `server` with these step fields: runs the drill and
/// returns the exit code, the step's record, the wall time and stdout.
fn run_step(server: &Hostile, fields: &str, defaults: &str) -> (i32, Value, Duration, String) {
    let dir = tempfile::tempdir().unwrap();
    let drill = drill_file(
        dir.path(),
        "hostile/hostile",
        &[
            ("URL", &server.url),
            ("DEFAULTS", defaults),
            ("FIELDS", fields),
        ],
    );
    let report = dir.path().join("record.json");
    let started = Instant::now();
    let output = firedrill()
        .arg("run")
        .arg(&drill)
        .arg("--report")
        .arg(&report)
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let record = read_record(&report);
    let step = record["steps"][0].clone();
    (output.status.code().unwrap_or(-1), step, elapsed, stdout)
}

fn error_of(step: &Value) -> &str {
    step["error"].as_str().unwrap_or_default()
}

#[test]
fn a_body_over_max_response_is_cut_not_buffered() {
    // No Content-Length: the only way to know is to count while reading.
    let server = serve(|stream, written| {
        let _ = stream.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n",
        );
        pour(stream, written, &vec![b'7'; 64 * 1024], 1 << 30);
    });
    let (code, step, elapsed, stdout) = run_step(
        &server,
        "    http: { url: /huge }\n    timeout: 20s",
        "max_response: 1MiB",
    );
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(step["outcome"], "failed", "{step}");
    assert!(
        error_of(&step).contains("is larger than 1048576 bytes (1MiB)"),
        "{step}"
    );
    assert!(error_of(&step).contains("max_response"), "{step}");
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
    // The client stopped reading near the limit: what the server got out is
    // the limit plus what the sockets buffer, not the gigabyte it offered.
    std::thread::sleep(Duration::from_millis(200));
    let sent = server.written.load(Ordering::Relaxed);
    assert!(sent < 64 << 20, "the server sent {sent} bytes");
}

#[test]
fn the_default_limit_is_10_mib_and_a_declared_length_fails_before_reading() {
    let server = serve(|stream, written| {
        let _ = stream.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\nConnection: close\r\n\r\n",
        );
        pour(stream, written, &vec![b'x'; 64 * 1024], 1 << 30);
    });
    let (code, step, elapsed, _) = run_step(&server, "    http: { url: /declared }", "");
    assert_eq!(code, 1);
    assert!(
        error_of(&step).contains("is larger than 10485760 bytes (10MiB), by its Content-Length"),
        "{step}"
    );
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
    std::thread::sleep(Duration::from_millis(200));
    let sent = server.written.load(Ordering::Relaxed);
    assert!(sent < 64 << 20, "the server sent {sent} bytes");

    // A step's own `max_response` wins over the default.
    let server = serve(|stream, written| {
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2048\r\n\r\n");
        pour(stream, written, &[b'x'; 1024], 2048);
    });
    let (code, step, _, _) = run_step(&server, "    http: { url: /small, max_response: 1KiB }", "");
    assert_eq!(code, 1);
    assert!(
        error_of(&step).contains("larger than 1024 bytes (1KiB)"),
        "{step}"
    );
}

#[test]
fn a_slow_drip_is_cut_by_the_step_timeout() {
    let server = serve(|stream, _| {
        if stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n")
            .is_err()
        {
            return;
        }
        let started = Instant::now();
        while started.elapsed() < SERVER_LIMIT {
            if stream
                .write_all(b".")
                .and_then(|()| stream.flush())
                .is_err()
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let (code, step, elapsed, stdout) =
        run_step(&server, "    http: { url: /drip }\n    timeout: 1s", "");
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(step["outcome"], "timed_out", "{step}");
    assert!(step["duration_ms"].as_u64().unwrap() < 1500, "{step}");
    assert!(elapsed < Duration::from_secs(4), "took {elapsed:?}");
}

#[test]
fn a_target_that_accepts_and_never_answers_is_cut_at_the_timeout() {
    let server = serve(|stream, _| {
        // Hold the connection, say nothing, until the client leaves.
        let mut sink = [0u8; 1024];
        while let Ok(n) = stream.read(&mut sink) {
            if n == 0 {
                return;
            }
        }
    });
    let (code, step, elapsed, stdout) =
        run_step(&server, "    http: { url: /silent }\n    timeout: 1s", "");
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(step["outcome"], "timed_out", "{step}");
    let ms = step["duration_ms"].as_u64().unwrap();
    assert!((1000..1500).contains(&ms), "{step}");
    assert!(elapsed < Duration::from_secs(4), "took {elapsed:?}");
}

#[test]
fn invalid_json_where_json_is_expected_is_a_clear_failure() {
    let bodies: [(&str, Behaviour); 3] = [
        ("cut short", |stream, _| {
            let body = br#"{"state": "done", "items": [1, 2,"#;
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(body);
        }),
        ("not UTF-8", |stream, _| {
            let body = b"{\"state\": \"\xff\xfe\"}";
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(body);
        }),
        ("nested 100 000 deep", |stream, _| {
            let body = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(body.as_bytes());
        }),
    ];
    for (what, behave) in bodies {
        let server = serve(behave);
        let (code, step, _, stdout) = run_step(
            &server,
            "    http: { url: /json }\n    expect: { json: { \"$.state\": done } }",
            "",
        );
        assert_eq!(code, 1, "{what}: {stdout}");
        assert!(!stdout.contains("panicked"), "{what}: {stdout}");
        assert_eq!(step["outcome"], "failed", "{what}: {step}");
        assert!(
            error_of(&step).starts_with("expected a JSON body, but it does not parse"),
            "{what}: {step}"
        );
    }
}

#[test]
fn a_huge_response_header_fails_the_step_cleanly() {
    let server = serve(|stream, _| {
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nX-Huge: ");
        let _ = stream.write_all(&vec![b'h'; 2 * 1024 * 1024]);
        let _ = stream.write_all(b"\r\nContent-Length: 2\r\n\r\nok");
    });
    let (code, step, elapsed, stdout) =
        run_step(&server, "    http: { url: /header }\n    timeout: 5s", "");
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(step["outcome"], "failed", "{step}");
    assert!(
        error_of(&step).contains("message head is too large"),
        "{step}"
    );
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
}

#[test]
fn control_characters_from_a_target_never_reach_the_terminal_raw() {
    let server = serve(|stream, _| {
        let body = b"\x1b]0;owned\x07\x1b[2J\x1b[31mboom";
        let _ = write!(
            stream,
            "HTTP/1.1 500 Internal Server Error\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let _ = stream.write_all(body);
    });
    let (code, step, _, stdout) = run_step(&server, "    http: { url: /escape }", "");
    assert_eq!(code, 1);
    assert!(stdout.contains("boom"), "{stdout:?}");
    assert!(!stdout.contains('\x1b'), "{stdout:?}");
    assert!(error_of(&step).contains("\\u{1b}[2J"), "{step}");
}
