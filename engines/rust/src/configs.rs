//! The configurations of the engine: the plan's phases by name, the switch labels of
//! engines/switches.py (`label()` / `from_label()`), and the dispatch table that instantiates
//! `engine::run` for every point of the space, so that all of them are compiled in.

use crate::engine::{self, LOCK_BATCH, LOCK_EVENT, LOCK_OFF};
use crate::error::InputError;
use crate::market::Totals;
use crate::reader::Reader;

/// The lock switch: off, taken several times per event, or once per batch of records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    Off,
    Event,
    Batch,
}

/// One point of the space of the four costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    pub queue: bool,
    pub lock: Lock,
    pub alloc: bool,
    pub dispatch: bool,
}

const fn config(queue: bool, lock: Lock, alloc: bool, dispatch: bool) -> Config {
    Config { queue, lock, alloc, dispatch }
}

/// The plan's phases, each removing one cost of the one before it.
pub const PHASES: [(&str, Config); 5] = [
    ("baseline", config(true, Lock::Event, true, true)),
    ("direct", config(false, Lock::Event, true, true)),
    ("batch", config(false, Lock::Batch, true, true)),
    ("preallocated", config(false, Lock::Batch, false, true)),
    ("lockless", config(false, Lock::Off, false, false)),
];

/// The switches in label order.
pub const SWITCHES: [&str; 4] = ["queue", "lock", "alloc", "dispatch"];

/// A configuration's short name: the costs it keeps, e.g. "queue+lock+alloc+dispatch".
pub fn label(c: Config) -> String {
    let lock = if c.lock == Lock::Event { "lock" } else { "batchlock" };
    let kept: Vec<&str> = [
        ("queue", c.queue),
        (lock, c.lock != Lock::Off),
        ("alloc", c.alloc),
        ("dispatch", c.dispatch),
    ]
    .iter()
    .filter(|(_, on)| *on)
    .map(|(name, _)| *name)
    .collect();
    if kept.is_empty() {
        "none".to_string()
    } else {
        kept.join("+")
    }
}

/// The configuration a label names: "queue+lock+alloc+dispatch" (all on) ... "none"; in any
/// order, as Python's `from_label` takes it ("lock" wins over "batchlock").
pub fn from_label(text: &str) -> Result<Config, String> {
    let kept: Vec<&str> = if text == "none" { Vec::new() } else { text.split('+').collect() };
    let mut unknown: Vec<&str> =
        kept.iter().copied().filter(|k| !SWITCHES.contains(k) && *k != "batchlock").collect();
    if !unknown.is_empty() {
        unknown.sort_unstable();
        unknown.dedup();
        let listed: Vec<String> = unknown.iter().map(|u| format!("'{u}'")).collect();
        return Err(format!(
            "unknown costs [{}] in '{text}' (known: {})",
            listed.join(", "),
            SWITCHES.join(", ")
        ));
    }
    let has = |name: &str| kept.contains(&name);
    let lock = if has("lock") {
        Lock::Event
    } else if has("batchlock") {
        Lock::Batch
    } else {
        Lock::Off
    };
    Ok(config(has("queue"), lock, has("alloc"), has("dispatch")))
}

/// An engine by phase name, by label, or by `switches:LABEL` (as `mbobench --engine` has it).
pub fn parse_engine(name: &str) -> Result<Config, String> {
    if let Some((_, c)) = PHASES.iter().find(|(phase, _)| *phase == name) {
        return Ok(*c);
    }
    let text = name.strip_prefix("switches:").unwrap_or(name);
    from_label(text).map_err(|e| {
        let phases: Vec<&str> = PHASES.iter().map(|(n, _)| *n).collect();
        format!(
            "unknown engine '{name}': not one of {} nor a switch label ({e})",
            phases.join(", ")
        )
    })
}

/// Run `c` over a reader: the dispatch table, one instantiation per configuration.
pub fn run(
    c: Config,
    reader: &mut Reader,
    strict: bool,
    batch: usize,
) -> Result<Totals, InputError> {
    use engine::run as r;
    const OFF: u8 = LOCK_OFF;
    const EVT: u8 = LOCK_EVENT;
    const BAT: u8 = LOCK_BATCH;
    let (rd, s, b) = (reader, strict, batch);
    match (c.queue, c.lock, c.alloc, c.dispatch) {
        (true, Lock::Event, true, true) => r::<true, EVT, true, true>(rd, s, b),
        (true, Lock::Event, true, false) => r::<true, EVT, true, false>(rd, s, b),
        (true, Lock::Event, false, true) => r::<true, EVT, false, true>(rd, s, b),
        (true, Lock::Event, false, false) => r::<true, EVT, false, false>(rd, s, b),
        (true, Lock::Batch, true, true) => r::<true, BAT, true, true>(rd, s, b),
        (true, Lock::Batch, true, false) => r::<true, BAT, true, false>(rd, s, b),
        (true, Lock::Batch, false, true) => r::<true, BAT, false, true>(rd, s, b),
        (true, Lock::Batch, false, false) => r::<true, BAT, false, false>(rd, s, b),
        (true, Lock::Off, true, true) => r::<true, OFF, true, true>(rd, s, b),
        (true, Lock::Off, true, false) => r::<true, OFF, true, false>(rd, s, b),
        (true, Lock::Off, false, true) => r::<true, OFF, false, true>(rd, s, b),
        (true, Lock::Off, false, false) => r::<true, OFF, false, false>(rd, s, b),
        (false, Lock::Event, true, true) => r::<false, EVT, true, true>(rd, s, b),
        (false, Lock::Event, true, false) => r::<false, EVT, true, false>(rd, s, b),
        (false, Lock::Event, false, true) => r::<false, EVT, false, true>(rd, s, b),
        (false, Lock::Event, false, false) => r::<false, EVT, false, false>(rd, s, b),
        (false, Lock::Batch, true, true) => r::<false, BAT, true, true>(rd, s, b),
        (false, Lock::Batch, true, false) => r::<false, BAT, true, false>(rd, s, b),
        (false, Lock::Batch, false, true) => r::<false, BAT, false, true>(rd, s, b),
        (false, Lock::Batch, false, false) => r::<false, BAT, false, false>(rd, s, b),
        (false, Lock::Off, true, true) => r::<false, OFF, true, true>(rd, s, b),
        (false, Lock::Off, true, false) => r::<false, OFF, true, false>(rd, s, b),
        (false, Lock::Off, false, true) => r::<false, OFF, false, true>(rd, s, b),
        (false, Lock::Off, false, false) => r::<false, OFF, false, false>(rd, s, b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_round_trip_over_the_whole_space() {
        for queue in [true, false] {
            for lock in [Lock::Event, Lock::Batch, Lock::Off] {
                for alloc in [true, false] {
                    for dispatch in [true, false] {
                        let c = config(queue, lock, alloc, dispatch);
                        assert_eq!(from_label(&label(c)), Ok(c));
                    }
                }
            }
        }
        assert_eq!(label(PHASES[0].1), "queue+lock+alloc+dispatch");
        assert_eq!(label(PHASES[4].1), "none");
        assert_eq!(label(PHASES[3].1), "batchlock+dispatch");
    }

    #[test]
    fn names_and_labels_parse_as_python_parses_them() {
        assert_eq!(parse_engine("baseline"), parse_engine("queue+lock+alloc+dispatch"));
        assert_eq!(parse_engine("switches:none"), parse_engine("lockless"));
        assert_eq!(from_label("dispatch+queue"), Ok(config(true, Lock::Off, false, true)));
        assert_eq!(
            from_label("queue+fast+a").unwrap_err(),
            "unknown costs ['a', 'fast'] in 'queue+fast+a' (known: queue, lock, alloc, dispatch)"
        );
        assert!(parse_engine("compiled").unwrap_err().starts_with("unknown engine 'compiled'"));
    }
}
