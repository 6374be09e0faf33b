//! Which handlers receive which events: per API, and globally.

use std::collections::HashMap;
use std::sync::Arc;

use hookshot_event::{Event, EventType};

use crate::handler::EventHandler;

/// One registration: a handler, the event it listens to, and the API it belongs to (`None`: global).
#[derive(Clone)]
pub struct Registration {
    /// The API, or `None` for a global handler.
    pub api_id: Option<String>,
    /// The event type.
    pub event: EventType,
    /// The handler.
    pub handler: Arc<dyn EventHandler>,
}

/// The routing table of a dispatcher. An event goes to the handlers registered for its type on its
/// API, then to the global handlers registered for its type.
#[derive(Clone, Default)]
pub struct Routes {
    global: HashMap<EventType, Vec<Arc<dyn EventHandler>>>,
    apis: HashMap<String, HashMap<EventType, Vec<Arc<dyn EventHandler>>>>,
    registrations: Vec<Registration>,
}

impl Routes {
    /// An empty table.
    pub fn new() -> Routes {
        Routes::default()
    }

    /// Registers `handler` for `event` on every API and for events that belong to none.
    pub fn add_global(&mut self, event: EventType, handler: Arc<dyn EventHandler>) -> &mut Routes {
        self.global
            .entry(event.clone())
            .or_default()
            .push(handler.clone());
        self.registrations.push(Registration {
            api_id: None,
            event,
            handler,
        });
        self
    }

    /// Registers `handler` for `event` on the API `api_id`.
    pub fn add_api(
        &mut self,
        api_id: &str,
        event: EventType,
        handler: Arc<dyn EventHandler>,
    ) -> &mut Routes {
        self.apis
            .entry(api_id.to_owned())
            .or_default()
            .entry(event.clone())
            .or_default()
            .push(handler.clone());
        self.registrations.push(Registration {
            api_id: Some(api_id.to_owned()),
            event,
            handler,
        });
        self
    }

    /// The handlers `event` goes to: its API's, then the global ones.
    pub fn handlers_for<'a>(
        &'a self,
        event: &'a Event,
    ) -> impl Iterator<Item = &'a Arc<dyn EventHandler>> + 'a {
        let api = event
            .api
            .as_ref()
            .and_then(|a| self.apis.get(&a.id))
            .and_then(|events| events.get(&event.event_type))
            .into_iter()
            .flatten();
        let global = self.global.get(&event.event_type).into_iter().flatten();
        api.chain(global)
    }

    /// Every registration, in the order made.
    pub fn registrations(&self) -> &[Registration] {
        &self.registrations
    }

    /// Whether nothing is registered.
    pub fn is_empty(&self) -> bool {
        self.registrations.is_empty()
    }
}
