//! The JSON guarantee: whatever strings an event holds, a JSON template renders valid JSON from
//! which a receiver reads back the exact values.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use hookshot_event::{
    ApiRef, Event, EventMeta, EventType, HostInfo, HostStatusMeta, KeyFailureMeta, Timestamp,
};
use hookshot_template::{SHIPPED, Template};
use proptest::prelude::*;
use serde_json::Value;

fn parse(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}\n{body}"))
}

static SHIPPED_TEMPLATES: LazyLock<Vec<Template>> = LazyLock::new(|| {
    SHIPPED
        .iter()
        .map(|n| Template::shipped(n).unwrap())
        .collect()
});

static DEFAULT: LazyLock<Template> = LazyLock::new(Template::default_webhook);

/// Every shipped template gives valid JSON for `event`, and the compiled program and the liquid
/// crate give the same body.
fn every_shipped_template_is_json(event: &Event) {
    for t in SHIPPED_TEMPLATES.iter() {
        let name = t.name();
        let body = t.render(event).unwrap();
        parse(&body);
        assert_eq!(
            body,
            t.render_with_liquid(event).unwrap().unwrap(),
            "{name}"
        );
    }
}

fn key_failure(
    event_type: EventType,
    [message, originating_request, path, origin, key]: [String; 5],
    api: [String; 3],
) -> Event {
    let [id, name, org_id] = api;
    Event::new(
        event_type,
        EventMeta::KeyFailure(KeyFailureMeta {
            message,
            originating_request,
            path,
            origin,
            key,
        }),
    )
    .with_timestamp(Timestamp::from_unix(1_795_890_984, 0))
    .with_api(ApiRef { id, name, org_id })
}

proptest! {
    #[test]
    fn key_failure_fields_read_back_exactly(
        fields in prop::array::uniform5(any::<String>()),
        api in prop::array::uniform3(any::<String>()),
    ) {
        let event = key_failure(EventType::AuthFailure, fields.clone(), api);
        let body = DEFAULT.render(&event).unwrap();
        let v = parse(&body);
        let [message, _, path, origin, key] = fields;
        prop_assert_eq!(&v["event"], "AuthFailure");
        prop_assert_eq!(&v["message"], &Value::from(message));
        prop_assert_eq!(&v["path"], &Value::from(path));
        prop_assert_eq!(&v["origin"], &Value::from(origin));
        prop_assert_eq!(&v["key"], &Value::from(key));
        every_shipped_template_is_json(&event);
    }

    #[test]
    fn host_status_fields_read_back_exactly(
        strings in prop::array::uniform5(any::<String>()),
        response_code in any::<i64>(),
        latency in -1e9f64..1e9,
        is_tcp_error in any::<bool>(),
        down in any::<bool>(),
    ) {
        let [message, check_url, host_name, api_id, target_url] = strings;
        let event_type = if down { EventType::HostDown } else { EventType::HostUp };
        let event = Event::new(
            event_type.clone(),
            EventMeta::HostStatus(HostStatusMeta {
                message: message.clone(),
                originating_request: String::new(),
                host_info: HostInfo {
                    check_url: check_url.clone(),
                    response_code,
                    latency,
                    is_tcp_error,
                    meta_data: BTreeMap::from([
                        ("host_name".to_owned(), host_name.clone()),
                        ("api_id".to_owned(), api_id.clone()),
                        ("target_url".to_owned(), target_url),
                    ]),
                },
            }),
        );
        let body = DEFAULT.render(&event).unwrap();
        let v = parse(&body);
        prop_assert_eq!(&v["event"], event_type.as_str());
        prop_assert_eq!(&v["message"], &Value::from(message));
        prop_assert_eq!(&v["url"], &Value::from(check_url));
        prop_assert_eq!(&v["response_code"], &Value::from(response_code.to_string()));
        prop_assert_eq!(&v["tcp_error"], &Value::from(is_tcp_error.to_string()));
        prop_assert_eq!(&v["host"], &Value::from(host_name));
        prop_assert_eq!(&v["api_id"], &Value::from(api_id));
        every_shipped_template_is_json(&event);
    }

    #[test]
    fn custom_events_read_back_exactly(
        name in "[^\u{0}]{1,40}",
        message in any::<String>(),
        extra in any::<String>(),
    ) {
        let event_type = EventType::from_name(&name);
        prop_assume!(!event_type.is_builtin());
        let mut meta = serde_json::Map::new();
        meta.insert("Message".into(), message.clone().into());
        meta.insert("Path".into(), extra.clone().into());
        let event = Event::new(event_type, EventMeta::Custom(meta));
        let v = parse(&DEFAULT.render(&event).unwrap());
        prop_assert_eq!(&v["event"], &Value::from(name));
        prop_assert_eq!(&v["message"], &Value::from(message));
        prop_assert_eq!(&v["path"], &Value::from(extra));
        prop_assert_eq!(&v["key"], "");
        every_shipped_template_is_json(&event);
    }
}
