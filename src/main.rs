//! The Latchkey server. `latchkey` serves; `latchkey hash-time` prints how long one
//! password hash takes on this machine, alone and with every core hashing at once.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,tower_http=warn".into()),
        )
        .init();
    if std::env::args().nth(1).as_deref() == Some("hash-time") {
        let hasher = latchkey::server::password_hash::Hasher::new(1, &[0; 32], &[]);
        // Not timed: the first hashes also fault in the memory that later ones reuse.
        for _ in 0..3 {
            let _ = hasher.hash("Correct-Horse-Battery-9").await;
        }
        let runs = 20;
        let start = std::time::Instant::now();
        for _ in 0..runs {
            let _ = hasher.hash("Correct-Horse-Battery-9").await;
        }
        println!(
            "argon2id m=19MiB t=2 p=1: {:.1} ms per hash alone ({runs} runs)",
            start.elapsed().as_secs_f64() * 1000.0 / runs as f64
        );
        // Every core hashing at once, as under a sign-in load: the cores share caches
        // and memory bandwidth, so this rate, not cores / the time alone, is the most
        // that sign-ins can reach on this machine.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let hasher = latchkey::server::password_hash::Hasher::new(cores, &[0; 32], &[]);
        let total = 5 * runs * cores;
        let start = std::time::Instant::now();
        let all: Vec<_> = (0..total)
            .map(|_| {
                let hasher = hasher.clone();
                tokio::spawn(async move { hasher.hash("Correct-Horse-Battery-9").await })
            })
            .collect();
        for one in all {
            let _ = one.await;
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "all {cores} cores hashing at once: {:.1} hashes/s ({:.1} ms per hash per core, {total} runs)",
            total as f64 / secs,
            secs * 1000.0 * cores as f64 / total as f64
        );
        return std::process::ExitCode::SUCCESS;
    }
    if std::env::args().nth(1).as_deref() == Some("rekey") {
        return match latchkey::server::rekey_command().await {
            Ok(report) => {
                println!("{report}");
                std::process::ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("latchkey rekey: {e}");
                std::process::ExitCode::FAILURE
            }
        };
    }
    match latchkey::server::run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("latchkey: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
