//! The baseline for scripts/bench and scripts/bench-http: a plain keep-alive
//! client doing the same requests as the benchmark drills (GET, status
//! check, JSON parse, one field compared), with nothing else around it.
//!
//! Usage: cargo bench --bench `http_baseline` -- URL TOKEN `TENANT_ID` NAME REQUESTS [CONCURRENCY]
//! Prints the microseconds the requests took.
//!
//! Or: cargo bench --bench `http_baseline` -- latencies URL PATH REQUESTS [CONCURRENCY]
//! GETs URL/PATH one request at a time (or CONCURRENCY at a time) and
//! prints, per request, the microseconds it took as this client saw it and
//! the milliseconds the server says it spent (demo-app's `Server-Timing:
//! app;dur=MS`): the floor for the timing-accuracy benchmark.

use std::time::Instant;

use futures_util::StreamExt;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if let [mode, url, path, requests, rest @ ..] = args.as_slice()
        && mode == "latencies"
    {
        let concurrency = rest
            .first()
            .map_or(1, |c| c.parse().expect("CONCURRENCY is a number"));
        latencies(
            url,
            path,
            requests.parse().expect("REQUESTS is a number"),
            concurrency,
        );
        return;
    }
    let (url, token, tenant_id, name, requests, concurrency) = match args.as_slice() {
        [url, token, tenant_id, name, requests] => (url, token, tenant_id, name, requests, "1"),
        [url, token, tenant_id, name, requests, concurrency] => {
            (url, token, tenant_id, name, requests, concurrency.as_str())
        }
        _ => {
            eprintln!("usage: http_baseline URL TOKEN TENANT_ID NAME REQUESTS [CONCURRENCY]");
            std::process::exit(2);
        }
    };
    let requests: usize = requests.parse().expect("REQUESTS is a number");
    let concurrency: usize = concurrency.parse().expect("CONCURRENCY is a number");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let elapsed = runtime.block_on(async {
        let client = reqwest::Client::new();
        let target = format!("{url}/tenants/{tenant_id}");
        let one = || async {
            let response = client
                .get(&target)
                .bearer_auth(token)
                .send()
                .await
                .expect("request");
            assert_eq!(response.status().as_u16(), 200);
            let body: serde_json::Value = response.json().await.expect("JSON body");
            assert_eq!(body["name"], name.as_str());
        };
        let started = Instant::now();
        if concurrency <= 1 {
            for _ in 0..requests {
                one().await;
            }
        } else {
            futures_util::stream::iter(0..requests)
                .map(|_| one())
                .buffer_unordered(concurrency)
                .collect::<Vec<()>>()
                .await;
        }
        started.elapsed()
    });
    println!("{}", elapsed.as_micros());
}

/// What the client measured, and what the server says it spent, per
/// request, `concurrency` requests at a time.
fn latencies(url: &str, path: &str, requests: usize, concurrency: usize) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let target = format!("{url}{path}");
        let one = || async {
            let started = Instant::now();
            let response = client.get(&target).send().await.expect("request");
            let server = response
                .headers()
                .get("server-timing")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("app;dur="))
                .map(str::to_owned)
                .expect("a Server-Timing: app;dur=MS header");
            response.bytes().await.expect("body");
            println!("{} {server}", started.elapsed().as_micros());
        };
        futures_util::stream::iter(0..requests)
            .map(|_| one())
            .buffer_unordered(concurrency)
            .collect::<Vec<()>>()
            .await;
    });
}
