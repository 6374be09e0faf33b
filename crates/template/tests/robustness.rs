//! Whatever the source, loading and rendering never panic; and wherever a liquid template
//! compiles, the compiled program renders what the liquid crate renders. The loaders (Go syntax and
//! liquid, from a string and from a file of arbitrary bytes) each take 10,000 generated sources,
//! with loops over ranges the event or a literal makes huge, and neither panic nor abort.

use std::sync::LazyLock;

use hookshot_event::{Event, EventType};
use hookshot_template::{Engine, Syntax, Template};
use proptest::prelude::*;

const PIECES: &[&str] = &[
    "{{",
    "}}",
    "{{-",
    "-}}",
    "{%",
    "%}",
    "{%-",
    "-%}",
    " ",
    "  ",
    "\n",
    "\t",
    ".",
    "Type",
    "Meta",
    "Path",
    "Message",
    "HostInfo",
    "ResponseCode",
    "Latency",
    "API",
    "Name",
    "TimeStamp",
    "DaysRemaining",
    "Nope",
    "if",
    "elsif",
    "else",
    "end",
    "endif",
    "unless",
    "endunless",
    "case",
    "when",
    "endcase",
    "eq",
    "ne",
    "lt",
    "and",
    "or",
    "not",
    "contains",
    "==",
    "!=",
    "<",
    ">=",
    ",",
    "\"",
    "'",
    "\"HostDown\"",
    "\"AuthFailure\"",
    "\"\"",
    "(",
    ")",
    "|",
    "$",
    "$x",
    ":=",
    "json",
    "default:",
    "as_rfc3339",
    "as_rfc3339_from_string",
    "upcase",
    "1",
    "-2",
    "2.5",
    "503",
    "true",
    "false",
    "nil",
    "raw",
    "endraw",
    "comment",
    "endcomment",
    "/*",
    "*/",
    "`",
    "é",
    "[",
    "]",
    "x",
    "{",
    "}",
    "\\",
];

static EVENTS: LazyLock<Vec<Event>> = LazyLock::new(|| {
    EventType::ALL
        .iter()
        .cloned()
        .chain([EventType::Custom("Deploy".into())])
        .map(|t| Event::sample(&t))
        .collect()
});

/// Whole actions and tags, so that many sources are valid templates.
const ACTIONS: &[&str] = &[
    "{{ Type }}",
    "{{- Meta.Path -}}",
    "{{ Meta.HostInfo.ResponseCode }}",
    "{{ Meta.HostInfo.Latency }}",
    "{{ Meta.Nope | default: \"d\" }}",
    "{{ Meta.DaysRemaining | json }}",
    "{{ TimeStamp | as_rfc3339 }}",
    "{{ Meta.Message | json }}",
    "{{ API.Name }}",
    "{{ Meta | json }}",
    "{{ 2.5 }}",
    "{{ nil }}",
    "{% if Type == \"HostDown\" %}",
    "{% if Meta.Path %}",
    "{% if Meta.Nope == false or Meta.CircuitEvent == 1 %}",
    "{% if Meta.HostInfo.Latency > 10 and API %}",
    "{% elsif Type contains \"Token\" %}",
    "{%- else -%}",
    "{% endif %}",
    "{% unless Meta.Key == \"\" %}",
    "{% endunless %}",
    "{% case Type %}",
    "{% case Meta.CircuitEvent %}",
    "{% when \"HostDown\", \"HostUp\" %}",
    "{% when 0 or 1 %}",
    "{% endcase %}",
    "{% comment %}",
    "{% endcomment %}",
    "{{ .Type }}",
    "{{if eq .Type \"HostDown\"}}",
    "{{ else if .Meta.Path }}",
    "{{- else -}}",
    "{{end}}",
    "{{ and .Meta.Key .Meta.Path }}",
    "{{ or .Meta.Nope 3 }}",
    "{{ .TimeStamp | as_rfc3339_from_string }}",
    " ",
    "\n",
    "\t",
    "x",
    "\"",
    "é",
    "-",
];

fn source() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(prop::sample::select(PIECES), 0..40).prop_map(|p| p.concat()),
        prop::collection::vec(prop::sample::select(ACTIONS), 0..16).prop_map(|p| p.concat()),
    ]
}

fn sorted(s: &str) -> Vec<char> {
    let mut c: Vec<char> = s.chars().collect();
    c.sort_unstable();
    c
}

/// Each entry of the event's objects (nested ones included) whose value is a non-empty scalar, as
/// an object printed whole shows it: its key then its value (`{{ Meta }}`), and `"key":value`
/// (`{{ Meta | json }}`). An output that moved a value to another key has a different count of
/// some entry, whatever order the object's entries come in.
fn entries(event: &Event) -> Vec<String> {
    use serde_json::Value;
    fn walk(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, v) in map {
                    let shown = match v {
                        Value::String(s) => s.clone(),
                        Value::Number(_) | Value::Bool(_) => v.to_string(),
                        Value::Null | Value::Array(_) | Value::Object(_) => String::new(),
                    };
                    if !shown.is_empty() {
                        out.push(format!("{key}{shown}"));
                        out.push(format!("{}:{v}", Value::String(key.clone())));
                    }
                    walk(v, out);
                }
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(&serde_json::to_value(event).unwrap(), &mut out);
    out
}

/// How many times each entry stands in `output`, and what is left: entries are taken out longest
/// first and each leaves a mark no entry contains, so that the end of one entry and the start of
/// the next (`"Orders API"` then `"IDorders"`) are never read as a third (`"APIIDorders"`).
fn take_entries(output: &str, entries: &[String]) -> (Vec<usize>, String) {
    let mut rest = output.to_owned();
    let counts = entries
        .iter()
        .map(|entry| {
            let n = rest.matches(entry.as_str()).count();
            rest = rest.replace(entry.as_str(), "\u{0}");
            n
        })
        .collect();
    (counts, rest)
}

/// Two outputs that differ only in the order of the entries of objects printed whole: the same
/// characters, every entry (key and value together) as many times in each, and the same
/// characters left once the entries are taken out.
fn same_but_for_entry_order(a: &str, b: &str, event: &Event) -> Result<(), String> {
    if sorted(a) != sorted(b) {
        return Err(format!("different characters: {a:?} / {b:?}"));
    }
    let mut entries = entries(event);
    entries.sort_by(|x, y| y.len().cmp(&x.len()).then_with(|| x.cmp(y)));
    entries.dedup();
    let (counts_a, rest_a) = take_entries(a, &entries);
    let (counts_b, rest_b) = take_entries(b, &entries);
    for ((entry, x), y) in entries.iter().zip(&counts_a).zip(&counts_b) {
        if x != y {
            return Err(format!("{entry:?} {x} times in {a:?}, {y} times in {b:?}"));
        }
    }
    if sorted(&rest_a) != sorted(&rest_b) {
        return Err(format!(
            "different text besides the entries: {rest_a:?} / {rest_b:?}"
        ));
    }
    Ok(())
}

/// Whether an output prints one of the event's objects whole (`{{ Meta }}`, `{{- API -}}`).
fn prints_an_object_whole(src: &str) -> bool {
    src.split("{{").skip(1).any(|action| {
        let expr = action.split("}}").next().unwrap_or("");
        let expr = expr.trim_matches(|c: char| c == '-' || c.is_whitespace());
        let head = expr.split('|').next().unwrap_or("").trim();
        matches!(
            head,
            "Meta"
                | "EventMetaData"
                | "API"
                | "Meta.HostInfo"
                | "EventMetaData.HostInfo"
                | "Meta.HostInfo.MetaData"
                | "EventMetaData.HostInfo.MetaData"
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn never_panics_and_the_engines_agree(src in source(), name in prop::sample::select(&["t.json", "t.xml", "t.txt"][..])) {
        let Ok(t) = Template::parse(name, &src) else {
            return Ok(());
        };
        for event in EVENTS.iter() {
            let compiled = t.render(event);
            if t.syntax() == Syntax::Liquid && t.engine() == Engine::Compiled {
                let liquid = t.render_with_liquid(event).unwrap();
                match (&compiled, &liquid) {
                    // An object printed whole goes through the liquid crate's HashMap, whose
                    // order is not fixed: such outputs may differ in the order of its entries
                    // only, each key still followed by its own value.
                    (Ok(a), Ok(b)) if a != b && prints_an_object_whole(&src) => {
                        let same = same_but_for_entry_order(a, b, event);
                        prop_assert!(same.is_ok(), "{:?} / {}: {}", src, event.event_type, same.unwrap_err())
                    }
                    (Ok(a), Ok(b)) => prop_assert_eq!(a, b, "{:?} / {}", src, event.event_type),
                    (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b.to_string()),
                    _ => prop_assert!(false, "{:?} / {}: {:?} vs {:?}", src, event.event_type, compiled, liquid),
                }
            }
        }
    }
}

/// Pieces of Go-syntax templates, with the HTML html/template follows.
const GO_PIECES: &[&str] = &[
    "{{",
    "}}",
    "{{-",
    "-}}",
    "{{ ",
    " }}",
    ".",
    ".Type",
    ".Meta.Path",
    ".Meta.Key",
    ".Meta",
    ".TimeStamp",
    ".Meta.HostInfo.ResponseCode",
    "if",
    "else",
    "end",
    "range",
    "with",
    "define",
    "eq",
    "ne",
    "lt",
    "and",
    "or",
    "not",
    "len",
    "printf",
    "as_rfc3339",
    "as_rfc3339_from_string",
    "(",
    ")",
    "|",
    "\"",
    "\"x\"",
    "`",
    "'",
    "'a'",
    "$",
    "$x",
    ":=",
    "=",
    "/*",
    "*/",
    "1",
    "-2",
    "2.5",
    "1e3",
    "0x1",
    "true",
    "nil",
    " ",
    "\n",
    "\t",
    "<",
    ">",
    "<a",
    "<p>",
    "</p>",
    "</",
    "<!--",
    "-->",
    "<script>",
    "<title>",
    "<!DOCTYPE",
    "href=",
    "id=x",
    "\"x>",
    "é",
    "\\",
    "\0",
];

/// Pieces of liquid templates that loops, ranges and blocks are made of.
const LIQUID_PIECES: &[&str] = &[
    "{% for i in (1..",
    "Meta.Key",
    "Meta.Path.size",
    ") %}",
    "{% endfor %}",
    "(",
    ")",
    "..",
    "{% tablerow i in (",
    "{% endtablerow %}",
    "limit:",
    "offset:",
    "reversed",
    "{% raw %}",
    "{% endraw %}",
    "{% capture x %}",
    "{% endcapture %}",
    "{% assign x = ",
    "{{ x }}",
    "upcase",
    "{% cycle 'a', 'b' %}",
    "{% increment n %}",
    "{% break %}",
    "forloop.index",
    "10001",
    "-5",
    "100000000000",
    "{% for i in (1..100000000000) %}{% endfor %}",
    "{% for i in (Meta.Key..Meta.Path.size) %}{{ i }}{% endfor %}",
];

/// Arbitrary short text, or a piece of the syntax.
fn mixed(pieces: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            3 => prop::sample::select(pieces).prop_map(str::to_owned),
            1 => prop::string::string_regex("(?s).{0,6}").unwrap(),
        ],
        0..30,
    )
    .prop_map(|p| p.concat())
}

const NAMES: &[&str] = &["t.json", "t.tmpl", "t.txt", "t", "t.html", "t.xml"];

/// Loads `src` under `name` and, when it loads, renders it for one event: neither may panic.
fn load_and_render(name: &str, src: &str) {
    if let Ok(t) = Template::parse(name, src) {
        let _ = t.render(&EVENTS[0]);
    }
}

/// A file for the loaders that read one, on a memory file system when the system has one (10,000
/// rewrites of a file cost seconds on a disk). Any content is valid input, so runs that share it
/// do not disturb each other.
fn scratch(name: &str) -> std::path::PathBuf {
    let shm = std::path::Path::new("/dev/shm");
    let base = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    let dir = base.join("hookshot-template-robustness");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    #[test]
    fn the_go_syntax_loader_never_panics(
        src in mixed(GO_PIECES),
        name in prop::sample::select(NAMES),
    ) {
        load_and_render(name, &src);
    }

    #[test]
    fn the_liquid_loader_never_panics(
        src in prop_oneof![mixed(PIECES), mixed(LIQUID_PIECES), source()],
        name in prop::sample::select(NAMES),
    ) {
        load_and_render(name, &src);
    }

    #[test]
    fn the_file_loaders_never_panic(
        bytes in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..64),
            mixed(GO_PIECES).prop_map(String::into_bytes),
            mixed(LIQUID_PIECES).prop_map(String::into_bytes),
        ],
        name in prop::sample::select(NAMES),
    ) {
        let path = scratch(name);
        std::fs::write(&path, &bytes).unwrap();
        if let Ok(t) = Template::from_file(&path) {
            let _ = t.render(&EVENTS[0]);
        }
        let _ = Template::load(path.to_str().unwrap());
    }
}

#[test]
fn entries_are_read_whole_not_across_their_neighbours() {
    let breaker = EVENTS
        .iter()
        .find(|e| e.event_type.as_str() == "BreakerTripped")
        .unwrap();
    let liquid = Template::parse("t.json", "{{-API}}-%}").unwrap();
    let compiled = liquid.render(breaker).unwrap();
    // The same entries in another order: "Orders API" then "IDorders" reads "APIIDorders", the
    // meta's `APIID` entry, only across a boundary.
    let reordered = "OrgIDacmeNameOrders APIIDorders-%}";
    assert_eq!(sorted(&compiled), sorted(reordered), "{compiled}");
    same_but_for_entry_order(&compiled, reordered, breaker).unwrap();
    // A value moved to another key is told apart.
    let moved = "OrgIDordersIDacmeNameOrders API-%}";
    assert!(same_but_for_entry_order(&compiled, moved, breaker).is_err());
}
