//! The batching stage: commands made while a pipeline is out wait and go together in the next
//! (another pipeline goes out early once a few are waiting), so under load Redis and the client
//! read and write many commands per system call, while a lone command still goes at once.
//!
//! Every command has its own deadline (its limit from when it was made). A pipeline waits for its
//! answers until the earliest deadline of the commands still waiting in it, answers those as
//! unanswered (or not connected), and goes on waiting for the others: one timer per pipeline when
//! Redis answers in time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use redis::{Cmd, RedisError, Value};
use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::commands::Shared;
use crate::{Error, Result};

/// Pipelines out at once. Commands made while one is out wait and go together in the next;
/// another is sent before those out are answered only once [`FULL_BATCH`] commands are waiting.
const PIPELINES_IN_FLIGHT: usize = 2;
/// Commands waiting that are worth a pipeline of their own while another is out.
const FULL_BATCH: usize = 8;

/// Commands to be sent together in one pipeline.
#[derive(Default)]
pub(crate) struct Batch {
    waiting: Vec<Waiting>,
    /// Tasks sending pipelines, each one at a time; at most [`PIPELINES_IN_FLIGHT`].
    flushers: usize,
}

/// One command in a batch.
struct Waiting {
    cmd: Cmd,
    reply: Reply,
}

/// Where one command's answer goes, and until when it is awaited.
struct Reply {
    deadline: Instant,
    limit: Duration,
    to: oneshot::Sender<Result<Value>>,
}

impl Shared {
    /// Sends `cmd` in the next pipeline, and starts sending if no pipeline is out; answered
    /// within `limit`, which also bounds waiting for a connection.
    pub(crate) async fn send(self: &Arc<Self>, cmd: Cmd, limit: Duration) -> Result<Value> {
        let (to, answer) = oneshot::channel();
        let lead = {
            let mut batch = self.batch.lock().unwrap_or_else(PoisonError::into_inner);
            batch.waiting.push(Waiting {
                cmd,
                reply: Reply {
                    deadline: Instant::now() + limit,
                    limit,
                    to,
                },
            });
            let lead = batch.flushers == 0
                || (batch.flushers < PIPELINES_IN_FLIGHT && batch.waiting.len() >= FULL_BATCH);
            batch.flushers += usize::from(lead);
            lead
        };
        if lead {
            tokio::spawn(flush(self.clone()));
        }
        answer.await.unwrap_or(Err(Error::NoAnswer(limit)))
    }

    /// What Redis's reply to one command means: the value, or the error it holds.
    fn answer(&self, generation: u64, value: Value) -> Result<Value> {
        self.answered_on(generation);
        value.extract_error().map_err(Error::Redis)
    }
}

/// Sends the waiting commands, one pipeline at a time, until none is left.
async fn flush(shared: Arc<Shared>) {
    /// Lets the next command start a flusher should this one panic.
    struct Flushing<'a>(&'a Shared);
    impl Drop for Flushing<'_> {
        fn drop(&mut self) {
            if std::thread::panicking() {
                self.0
                    .batch
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .flushers -= 1;
            }
        }
    }
    let _flushing = Flushing(&shared);
    loop {
        let waiting = {
            let mut batch = shared.batch.lock().unwrap_or_else(PoisonError::into_inner);
            if batch.waiting.is_empty() {
                batch.flushers -= 1;
                return;
            }
            std::mem::take(&mut batch.waiting)
        };
        send_pipeline(&shared, waiting).await;
    }
}

/// Sends one pipeline and answers each of its commands by its deadline.
async fn send_pipeline(shared: &Arc<Shared>, waiting: Vec<Waiting>) {
    let count = waiting.len();
    let mut pipeline = redis::pipe();
    let mut replies = Vec::with_capacity(count);
    for w in waiting {
        pipeline.add_command(w.cmd);
        replies.push(Some(w.reply));
    }
    // The connection the pipeline went out on (0: none could be had yet).
    let sent_on = AtomicU64::new(0);
    let exchange = async {
        let (generation, mut connection) = shared.connection().await?;
        sent_on.store(generation, Ordering::Relaxed);
        let replies = connection.send_packed_commands(&pipeline, 0, count).await;
        Some((generation, replies))
    };
    let mut exchange = std::pin::pin!(exchange);
    loop {
        let Some(deadline) = replies.iter().flatten().map(|r| r.deadline).min() else {
            // Every command was answered by its deadline; what is still out is abandoned.
            return;
        };
        let outcome = match tokio::time::timeout_at(deadline, exchange.as_mut()).await {
            Ok(outcome) => outcome,
            Err(_) => {
                let generation = sent_on.load(Ordering::Relaxed);
                if generation != 0 {
                    shared.no_answer_on(generation);
                }
                let last = (generation == 0)
                    .then(|| shared.last_connect_error())
                    .flatten();
                for slot in &mut replies {
                    if slot.as_ref().is_some_and(|r| r.deadline <= deadline) {
                        let r = slot.take().expect("checked");
                        let failure = if generation == 0 {
                            Error::NotConnected {
                                waited: r.limit,
                                last_attempt: last.clone(),
                            }
                        } else {
                            Error::NoAnswer(r.limit)
                        };
                        let _ = r.to.send(Err(failure));
                    }
                }
                continue;
            }
        };
        match outcome {
            None => {
                let last = shared.last_connect_error();
                for r in replies.into_iter().flatten() {
                    let _ = r.to.send(Err(Error::NotConnected {
                        waited: r.limit,
                        last_attempt: last.clone(),
                    }));
                }
            }
            Some((generation, Ok(values))) if values.len() == count => {
                for (slot, value) in replies.into_iter().zip(values) {
                    if let Some(r) = slot {
                        let _ = r.to.send(shared.answer(generation, value));
                    }
                }
            }
            Some((generation, Ok(values))) => {
                let e = RedisError::from((
                    redis::ErrorKind::UnexpectedReturnType,
                    "unexpected number of replies to a pipeline",
                    format!("{} replies to {count} commands", values.len()),
                ));
                shared.drop_connection(generation);
                for r in replies.into_iter().flatten() {
                    let _ = r.to.send(Err(Error::Redis(e.clone())));
                }
            }
            Some((generation, Err(e))) => {
                let failure = shared.send_failed(generation, e, Duration::ZERO);
                for r in replies.into_iter().flatten() {
                    let failure = match &failure {
                        Error::NoAnswer(_) => Error::NoAnswer(r.limit),
                        other => other.clone(),
                    };
                    let _ = r.to.send(Err(failure));
                }
            }
        }
        return;
    }
}
