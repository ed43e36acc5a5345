//! The baseline for scripts/bench-http: a plain keep-alive client doing the
//! same requests as the benchmark drill (GET, status check, JSON parse and
//! one field compared), with nothing else around it.
//!
//! Usage: cargo bench --bench http_baseline -- URL TOKEN TENANT_ID NAME REQUESTS

use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let [url, token, tenant_id, name, requests] = args.as_slice() else {
        eprintln!("usage: http_baseline URL TOKEN TENANT_ID NAME REQUESTS");
        std::process::exit(2);
    };
    let requests: usize = requests.parse().expect("REQUESTS is a number");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let elapsed = runtime.block_on(async {
        let client = reqwest::Client::new();
        let target = format!("{url}/tenants/{tenant_id}");
        let started = Instant::now();
        for _ in 0..requests {
            let response = client
                .get(&target)
                .bearer_auth(token)
                .send()
                .await
                .expect("request");
            assert_eq!(response.status().as_u16(), 200);
            let body: serde_json::Value = response.json().await.expect("JSON body");
            assert_eq!(body["name"], name.as_str());
        }
        started.elapsed()
    });
    println!("{}", elapsed.as_micros());
}
