//! An [`EventSink`] that keeps what it is given, for tests of code that fires events (the
//! gateway's request path, in-process, without a dispatcher, a receiver or time to wait).

use std::sync::{Mutex, PoisonError};

use hookshot_core::{Event, EventSink};

/// Keeps every event fired into it, in order.
#[derive(Debug, Default)]
pub struct RecordingSink {
    fired: Mutex<Vec<Event>>,
}

impl RecordingSink {
    /// An empty sink.
    pub fn new() -> RecordingSink {
        RecordingSink::default()
    }

    /// The events fired so far, in order.
    pub fn events(&self) -> Vec<Event> {
        self.fired
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl EventSink for RecordingSink {
    fn fire(&self, event: Event) {
        self.fired
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(event);
    }
}
