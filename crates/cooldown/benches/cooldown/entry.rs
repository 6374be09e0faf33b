//! Bytes per live entry at ENTRIES entries, each structure filled in a child process of its own.

use std::collections::HashMap;
use std::time::Duration;

use hookshot_cooldown::MemoryStore;
use hookshot_testkit::bench::{Table, verdict};

use crate::{CHILD, ENTRIES, checksum_of};

/// Resident memory of this process in bytes (Linux).
fn rss() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// In a child process: fills one structure with ENTRIES entries, prints the resident memory
/// gained and the bytes the structure accounts for.
pub(crate) fn child(what: &str) {
    let before = rss().unwrap_or(0);
    let accounted;
    match what {
        "store" => {
            let store = MemoryStore::new();
            for i in 0..ENTRIES as u64 {
                store.claim_sync(&checksum_of(i), Duration::from_secs(600));
            }
            assert_eq!(store.entries(), ENTRIES);
            accounted = store.memory_bytes();
            let after = rss().unwrap_or(0);
            println!("{} {accounted}", after.saturating_sub(before));
            std::hint::black_box(&store);
        }
        _ => {
            let mut map: HashMap<[u8; 16], u64> = HashMap::new();
            for i in 0..ENTRIES as u64 {
                map.insert(checksum_of(i).0, i);
            }
            accounted = map.capacity() * (16 + 8 + 1);
            let after = rss().unwrap_or(0);
            println!("{} {accounted}", after.saturating_sub(before));
            std::hint::black_box(&map);
        }
    }
}

pub(crate) fn measure_in_child(what: &str) -> Option<(usize, usize)> {
    let exe = std::env::current_exe().ok()?;
    let out = std::process::Command::new(exe)
        .env(CHILD, what)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text.split_whitespace().map(|w| w.parse::<usize>());
    Some((it.next()?.ok()?, it.next()?.ok()?))
}

pub(crate) fn memory_per_entry(table: &mut Table) {
    let (Some((store_rss, store_accounted)), Some((map_rss, _))) =
        (measure_in_child("store"), measure_in_child("hashmap"))
    else {
        table.row(
            "MemoryStore bytes per live entry",
            "not measured",
            "-",
            "-",
            "-",
        );
        return;
    };
    let per = |b: usize| b as f64 / ENTRIES as f64;
    table.row(
        "MemoryStore bytes per live entry at 1 M (resident memory gained)",
        format!("{:.1} B", per(store_rss)),
        format!("{:.1} B HashMap<[u8;16],u64>", per(map_rss)),
        format!("{:.2}x", per(store_rss) / per(map_rss)),
        verdict(
            "documented 32-64 B",
            (32.0..=64.0).contains(&per(store_rss)),
        ),
    );
    table.row(
        "MemoryStore bytes per live entry at 1 M (as accounted: slots allocated)",
        format!("{:.1} B", per(store_accounted)),
        "-",
        "-",
        verdict(
            "documented 32-64 B",
            (32.0..=64.0).contains(&per(store_accounted)),
        ),
    );
}
