//! Which handlers receive which events: per API, and globally.

use std::collections::HashMap;
use std::sync::Arc;

use hookshot_event::{Event, EventType};

use hookshot_core::EventHandler;

use crate::metrics::HandlerMetrics;

/// One registration: a handler, the event it listens to, the API it belongs to (`None`: global),
/// and the counters of what became of the events it was given.
#[derive(Clone)]
pub struct Registration {
    /// The API, or `None` for a global handler.
    pub api_id: Option<String>,
    /// The event type.
    pub event: EventType,
    /// The handler.
    pub handler: Arc<dyn EventHandler>,
    /// What became of this registration's events, counted by the dispatcher (a handler
    /// registered twice has two sets of counters).
    pub metrics: Arc<HandlerMetrics>,
}

/// A handler as the routing table hands it to the dispatcher: with its registration's counters.
#[derive(Clone)]
pub(crate) struct Route {
    pub(crate) handler: Arc<dyn EventHandler>,
    pub(crate) metrics: Arc<HandlerMetrics>,
}

/// The routing table of a dispatcher. An event goes to the handlers registered for its type on its
/// API, then to the global handlers registered for its type.
#[derive(Clone, Default)]
pub struct Routes {
    global: HashMap<EventType, Vec<Route>>,
    apis: HashMap<String, HashMap<EventType, Vec<Route>>>,
    registrations: Vec<Registration>,
}

impl Routes {
    /// An empty table.
    pub fn new() -> Routes {
        Routes::default()
    }

    /// Registers `handler` for `event` on every API and for events that belong to none.
    pub fn add_global(&mut self, event: EventType, handler: Arc<dyn EventHandler>) -> &mut Routes {
        let route = self.register(None, &event, handler);
        self.global.entry(event).or_default().push(route);
        self
    }

    /// Registers `handler` for `event` on the API `api_id`.
    pub fn add_api(
        &mut self,
        api_id: &str,
        event: EventType,
        handler: Arc<dyn EventHandler>,
    ) -> &mut Routes {
        let route = self.register(Some(api_id), &event, handler);
        self.apis
            .entry(api_id.to_owned())
            .or_default()
            .entry(event)
            .or_default()
            .push(route);
        self
    }

    fn register(
        &mut self,
        api_id: Option<&str>,
        event: &EventType,
        handler: Arc<dyn EventHandler>,
    ) -> Route {
        let metrics = Arc::new(HandlerMetrics::default());
        self.registrations.push(Registration {
            api_id: api_id.map(str::to_owned),
            event: event.clone(),
            handler: handler.clone(),
            metrics: metrics.clone(),
        });
        Route { handler, metrics }
    }

    /// The handlers `event` goes to: its API's, then the global ones.
    pub fn handlers_for<'a>(
        &'a self,
        event: &'a Event,
    ) -> impl Iterator<Item = &'a Arc<dyn EventHandler>> + 'a {
        self.routes_for(event).map(|route| &route.handler)
    }

    /// The routes `event` goes to, with their counters.
    pub(crate) fn routes_for<'a>(
        &'a self,
        event: &'a Event,
    ) -> impl Iterator<Item = &'a Route> + 'a {
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
