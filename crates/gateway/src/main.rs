//! The `hookshot` binary: parses arguments, sets up logging, and calls the gateway library.
//!
//! It holds no logic of its own; configuration errors are printed and exit with status 1,
//! usage errors with status 2. Without a subcommand it runs the gateway, on `--conf FILE` or on
//! the bundled example configuration.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use hookshot_gateway::config::{self, LoadedConfig, LogFormat};

// mimalloc: the gateway's tasks allocate on one thread and free on another all the time, which
// glibc's malloc serialises on its arena locks.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Hookshot: an API gateway whose events drive Tyk-compatible webhooks.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// The gateway configuration file (tyk.conf-style JSON); without it, the bundled example runs.
    #[arg(long, global = true)]
    conf: Option<PathBuf>,
    /// Log lines as `text` or `json` (overrides `hookshot.log_format`).
    #[arg(long, global = true)]
    log_format: Option<LogFormatArg>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormatArg {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway (the default).
    Run,
    /// Load and validate a configuration and every API definition it names; print all errors.
    Check,
    /// A webhook receiver for trying things out: prints each request, verifies signatures.
    Listen {
        /// The port to listen on (127.0.0.1).
        #[arg(long, default_value_t = 9000)]
        port: u16,
        /// A Standard Webhooks secret (`whsec_` and the base64 of 24 to 64 bytes) to verify
        /// signatures with.
        #[arg(long)]
        secret: Option<String>,
    },
    /// Print the body a template renders for an event, exactly as it would be sent.
    Render {
        /// The template: a file path, or the name of a shipped template (`slack.json`, ...).
        #[arg(long)]
        template: String,
        /// An event file in the event JSON shape (`{"Type": ..., "Meta": {...}}`).
        #[arg(
            long,
            required_unless_present = "event_type",
            conflicts_with = "event_type"
        )]
        event: Option<PathBuf>,
        /// Render the built-in sample event of this type instead (`AuthFailure`, `HostDown`, ...).
        #[arg(long)]
        event_type: Option<String>,
    },
}

fn init_logs(format: LogFormat) {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn print_errors(name: &str, errors: &hookshot_config::ConfigErrors) {
    eprintln!("{name}: {} error(s):", errors.len());
    for e in errors.iter() {
        eprintln!("  {e}");
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let flag_format = cli.log_format.map(|f| match f {
        LogFormatArg::Text => LogFormat::Text,
        LogFormatArg::Json => LogFormat::Json,
    });
    match cli.command {
        Some(Command::Check) => {
            init_logs(flag_format.unwrap_or_default());
            let Some(conf) = cli.conf else {
                eprintln!("hookshot check: --conf FILE is required");
                return ExitCode::from(2);
            };
            match hookshot_gateway::check::check(&conf) {
                Ok(checked) => {
                    let handlers: usize = checked.global.iter().count()
                        + checked
                            .apis
                            .iter()
                            .map(|(_, _, h)| h.iter().count())
                            .sum::<usize>();
                    println!(
                        "{}: OK ({} API definitions, {handlers} event handlers)",
                        conf.display(),
                        checked.apis.len()
                    );
                    ExitCode::SUCCESS
                }
                Err(errors) => {
                    print_errors(&conf.display().to_string(), &errors);
                    ExitCode::FAILURE
                }
            }
        }
        Some(Command::Listen { port, secret }) => {
            init_logs(flag_format.unwrap_or_default());
            listen(port, secret)
        }
        Some(Command::Render {
            template,
            event,
            event_type,
        }) => {
            use hookshot_gateway::render::{EventSource, render};
            use std::io::Write as _;
            let source = match (&event, &event_type) {
                (Some(file), _) => EventSource::File(file),
                (None, Some(name)) => EventSource::Sample(name),
                (None, None) => return ExitCode::from(2),
            };
            match render(&template, source) {
                Ok(body) => {
                    let mut out = std::io::stdout().lock();
                    match out.write_all(body.as_bytes()).and_then(|()| out.flush()) {
                        Ok(()) => ExitCode::SUCCESS,
                        Err(_) => ExitCode::FAILURE,
                    }
                }
                Err(e) => {
                    eprintln!("hookshot render: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Some(Command::Run) | None => {
            let loaded = match &cli.conf {
                Some(path) => match config::load(path) {
                    Ok(l) => l,
                    Err(errors) => {
                        print_errors(&path.display().to_string(), &errors);
                        return ExitCode::FAILURE;
                    }
                },
                None => config::example(),
            };
            init_logs(flag_format.unwrap_or(loaded.config.hookshot.log_format));
            run(loaded)
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn run(loaded: LoadedConfig) -> ExitCode {
    if loaded.is_example() {
        tracing::warn!(
            "no --conf given: running the bundled example (memory storage, API /orders/, the \
             admin secret of README's \"Running the gateway\" unless HOOKSHOT_SECRET sets one); \
             webhooks go to `hookshot listen --port 9000`"
        );
    }
    let grace = Duration::from_secs(loaded.config.hookshot.shutdown_grace_secs);
    runtime().block_on(async {
        match hookshot_gateway::server::start(&loaded).await {
            Ok(running) => {
                println!("hookshot: listening on http://{}", running.addr);
                tracing::info!(addr = %running.addr, apis = running.gateway.apis().len(), "gateway listening");
                if let Some((_, control)) = &running.control {
                    println!("hookshot: control API on http://{control}");
                    tracing::info!(addr = %control, "control API (/tyk/, /metrics) listening");
                }
                hookshot_gateway::server::run(running, grace).await;
                ExitCode::SUCCESS
            }
            Err(hookshot_gateway::server::RunError::Config(errors)) => {
                print_errors(&loaded.name, &errors);
                ExitCode::FAILURE
            }
            Err(e) => {
                eprintln!("hookshot: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

fn listen(port: u16, secret: Option<String>) -> ExitCode {
    let key = match secret.as_deref().map(hookshot_config::SigningKey::parse) {
        None => None,
        Some(Ok(key)) => Some(key),
        Some(Err(e)) => {
            eprintln!(
                "hookshot listen: --secret: {e}; expected a Standard Webhooks secret: \"whsec_\" \
                 followed by the base64 of 24 to 64 random bytes"
            );
            return ExitCode::from(2);
        }
    };
    runtime().block_on(async {
        let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("hookshot listen: cannot listen on 127.0.0.1:{port}: {e}");
                return ExitCode::FAILURE;
            }
        };
        let addr = listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        println!("hookshot listen: receiving on http://{addr}");
        let out: hookshot_gateway::listen::Output =
            std::sync::Arc::new(std::sync::Mutex::new(std::io::stdout()));
        tokio::select! {
            () = hookshot_gateway::listen::serve(listener, key, out) => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        ExitCode::SUCCESS
    })
}
