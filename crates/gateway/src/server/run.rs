//! A started gateway running until it is told to stop: the signals it reacts to (SIGHUP
//! reloads the API definitions, SIGTERM or ctrl-c shuts down) and its listeners served together.

use std::time::Duration;

use tokio::sync::watch;

use super::{Running, serve};
use crate::app::Endpoints;

/// The signals a running gateway reacts to, registered before it announces that it listens so
/// that none sent right after is missed.
pub(super) struct Signals {
    #[cfg(unix)]
    hup: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    pub(super) fn register() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Signals {
                hup: signal(SignalKind::hangup()).ok(),
                term: signal(SignalKind::terminate()).ok(),
            }
        }
        #[cfg(not(unix))]
        Signals {}
    }
}

/// Runs a started gateway until SIGTERM or ctrl-c: SIGHUP reloads the API definitions; at
/// shutdown it stops accepting, finishes requests in flight, then drains the webhook queue up to
/// `hookshot.shutdown_grace_secs`.
pub async fn run(running: Running, grace: Duration) {
    let Running {
        gateway,
        events,
        listener,
        control,
        limits,
        signals,
        ..
    } = running;
    #[cfg(unix)]
    let term = {
        if let Some(mut hup) = signals.hup {
            let gw = gateway.clone();
            tokio::spawn(async move {
                while hup.recv().await.is_some() {
                    tracing::info!("SIGHUP: reloading API definitions");
                    let _ = gw.reload();
                }
            });
        }
        signals.term
    };
    #[cfg(not(unix))]
    let term = {
        let _ = signals;
        None::<()>
    };
    let (stop, stopped) = watch::channel(false);
    let signalled = async move {
        shutdown_signal(term).await;
        let _ = stop.send(true);
    };
    let until_stopped = |mut stopped: watch::Receiver<bool>| async move {
        let _ = stopped.wait_for(|s| *s).await;
    };
    let public_endpoints = if control.is_some() {
        Endpoints::Public
    } else {
        Endpoints::All
    };
    let public = serve(
        listener,
        gateway.clone(),
        public_endpoints,
        limits,
        until_stopped(stopped.clone()),
        grace,
    );
    let control = async {
        if let Some((listener, _)) = control {
            let done = until_stopped(stopped.clone());
            serve(
                listener,
                gateway.clone(),
                Endpoints::Control,
                limits,
                done,
                grace,
            )
            .await;
        }
    };
    tokio::join!(signalled, public, control);
    events.shutdown().await;
    tracing::info!("stopped");
}

#[cfg(unix)]
async fn shutdown_signal(term: Option<tokio::signal::unix::Signal>) {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match term {
            Some(mut s) => {
                s.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => tracing::info!("ctrl-c: shutting down"),
        () = term => tracing::info!("SIGTERM: shutting down"),
    }
}

#[cfg(not(unix))]
async fn shutdown_signal(_term: Option<()>) {
    let _ = tokio::signal::ctrl_c().await;
    tracing::info!("ctrl-c: shutting down");
}
