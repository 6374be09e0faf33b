//! The time to render the default template for an `AuthFailure` event, beside a hand-written
//! `format!` of the same JSON with the same escaping, measured in the same run.
//!
//! Run with `cargo bench -p hookshot-template` (or `cargo xtask bench`). Targets: at most 2 µs per
//! render, and within 4x of the `format!` ceiling.

use std::fmt;
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use hookshot_event::{Event, EventMeta, EventType};
use hookshot_template::Template;
use hookshot_testkit::bench::{Table, median, time, verdict};

/// A string written as JSON string content, escaped as Hookshot's JSON templates escape values.
struct Json<'a>(&'a str);

impl fmt::Display for Json<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        // The common case, a value with nothing to escape, in one write.
        if !s
            .bytes()
            .any(|b| b < 0x20 || b == b'"' || b == b'\\' || b == 0xe2)
        {
            return f.write_str(s);
        }
        let mut start = 0;
        for (i, c) in s.char_indices() {
            let esc: Option<&str> = match c {
                '"' => Some("\\\""),
                '\\' => Some("\\\\"),
                '\n' => Some("\\n"),
                '\r' => Some("\\r"),
                '\t' => Some("\\t"),
                '\u{8}' => Some("\\b"),
                '\u{c}' => Some("\\f"),
                '\u{2028}' => Some("\\u2028"),
                '\u{2029}' => Some("\\u2029"),
                c if (c as u32) < 0x20 => None,
                _ => continue,
            };
            f.write_str(&s[start..i])?;
            match esc {
                Some(e) => f.write_str(e)?,
                None => write!(f, "\\u{:04x}", c as u32)?,
            }
            start = i + c.len_utf8();
        }
        f.write_str(&s[start..])
    }
}

/// The default template's body for a key-failure event, by hand.
fn by_hand(event: &Event) -> String {
    let EventMeta::KeyFailure(m) = &event.meta else {
        unreachable!("the benchmark renders a key-failure event")
    };
    format!(
        "{{\n    \"event\": \"{}\",\n    \"message\": \"{}\",\n    \"path\": \"{}\",\n    \"origin\": \"{}\",\n    \"key\": \"{}\"\n}}",
        Json(event.event_type.as_str()),
        Json(&m.message),
        Json(&m.path),
        Json(&m.origin),
        Json(&m.key),
    )
}

/// The median time of one call of `f`, over `samples` batches of `batch` calls.
fn measure(samples: usize, batch: u32, mut f: impl FnMut()) -> Duration {
    for _ in 0..batch {
        f();
    }
    let times = (0..samples)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..batch {
                f();
            }
            start.elapsed() / batch
        })
        .collect();
    median(times)
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}

fn main() {
    let event = Event::sample(&EventType::AuthFailure);
    let template = Template::default_webhook();
    let liquid_only = template.render_with_liquid(&event).unwrap().unwrap();
    assert_eq!(
        template.render(&event).unwrap(),
        by_hand(&event),
        "the same JSON"
    );
    assert_eq!(liquid_only, by_hand(&event), "the same JSON through liquid");
    let go = Template::from_file(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/go/tyk_default_style.json"),
    )
    .unwrap();

    let (samples, batch) = (101, 20_000);
    let hand = measure(samples, batch, || {
        black_box(by_hand(black_box(&event)));
    });
    let compiled = measure(samples, batch, || {
        black_box(template.render(black_box(&event)).unwrap());
    });
    let mut buf = String::with_capacity(1024);
    let reused = measure(samples, batch, || {
        buf.clear();
        template.render_to(black_box(&event), &mut buf).unwrap();
        black_box(&buf);
    });
    let go_time = measure(samples, batch, || {
        black_box(go.render(black_box(&event)).unwrap());
    });
    let liquid = measure(21, 2_000, || {
        black_box(
            template
                .render_with_liquid(black_box(&event))
                .unwrap()
                .unwrap(),
        );
    });

    let r = ratio(compiled, hand);
    let mut table = Table::new("hookshot-template: render the default template for AuthFailure");
    table.row(
        "default_webhook.json (compiled)",
        time(compiled),
        format!("format! {}", time(hand)),
        format!("{r:.1}x"),
        verdict(
            "≤ 2 µs and ≤ 4x",
            compiled <= Duration::from_micros(2) && r <= 4.0,
        ),
    );
    table.row(
        "same, render_to a reused buffer",
        time(reused),
        format!("format! {}", time(hand)),
        format!("{:.1}x", ratio(reused, hand)),
        "-",
    );
    table.row(
        "Tyk-style Go-syntax default (compiled)",
        time(go_time),
        format!("format! {}", time(hand)),
        format!("{:.1}x", ratio(go_time, hand)),
        "-",
    );
    table.row(
        "default_webhook.json via the liquid crate",
        time(liquid),
        format!("format! {}", time(hand)),
        format!("{:.1}x", ratio(liquid, hand)),
        "- (reference engine)",
    );
    println!("{}", table.render());
}
