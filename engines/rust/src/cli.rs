//! The command line, parsed by hand (standard library only): which configuration to run, on
//! which file, how many passes.

use crate::configs::{self, Config, Lock};
use crate::error::InputError;

pub const DEFAULT_BATCH: usize = 1000;

const USAGE: &str = "\
usage: mbobench-rust [--engine NAME] [--queue on|off] [--lock on|off|batch] [--alloc on|off]
                     [--dispatch on|off] [--batch N] [--passes N] [--strict] FILE

Runs mbobench's backtest (an L3 book per instrument, a market maker and an imbalance taker, a
fill simulator with queue position, and the digest of all of it) on a DBN MBO file (.dbn or
.dbn.zst; DBN versions 1 to 3), and prints one JSON line per pass on stdout:
  {\"pass\": 0, \"events\": ..., \"event_ends\": ..., \"unknown_orders\": ..., \"fills\": ...,
   \"digest\": \"...\", \"elapsed_ns\": ...}

options:
  --engine NAME       baseline (default), direct, batch, preallocated, lockless, or a switch
                      label as engines/switches.py names them: the costs kept, joined by '+'
                      (queue+lock+alloc+dispatch ... none; batchlock for the batch lock)
  --queue on|off      every record through a priority queue of events
  --lock on|off|batch the market state behind an RwLock: taken per event, off, or per batch
  --alloc on|off      event objects and clones, String-keyed features, a fresh Vec per call
  --dispatch on|off   strategies found by name per event and called through dyn Strategy
                      (each switch overrides the engine's; alone they define it; default on)
  --batch N           records per batch of the batch lock (default 1000)
  --passes N          whole passes in this process, each opening and reading the file anew
                      with fresh state (default 1)
  --strict            a cancel or modify of an unknown order id is an error
  -h, --help          this help

exit codes: 0 ok, 2 bad usage or input (one line on stderr)

the engines (the plan's phases) and the costs each keeps:
";

/// The help text, ending with each phase's switch label.
pub fn usage() -> String {
    let mut text = USAGE.to_string();
    for (name, config) in configs::PHASES {
        text += &format!("  {name:<14}{}\n", configs::label(config));
    }
    text
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub config: Config,
    pub batch: usize,
    pub passes: u64,
    pub strict: bool,
    pub file: String,
}

/// The parsed command line, or a request for help.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Run(Options),
    Help,
}

fn on_off(option: &str, value: &str) -> Result<bool, InputError> {
    match value {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(InputError(format!("{option} must be on or off, not '{value}'"))),
    }
}

fn positive(option: &str, value: &str) -> Result<u64, InputError> {
    match value.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(InputError(format!("{option} must be a positive integer, not '{value}'"))),
    }
}

/// Parse the arguments (without the program name).
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, InputError> {
    let mut engine: Option<String> = None;
    let (mut queue, mut lock, mut alloc, mut dispatch) = (None, None, None, None);
    let (mut batch, mut passes, mut strict) = (DEFAULT_BATCH, 1, false);
    let mut file: Option<String> = None;
    let mut args = args.into_iter();
    let mut only_files = false;
    while let Some(arg) = args.next() {
        if only_files || !arg.starts_with('-') || arg == "-" {
            if let Some(first) = &file {
                return Err(InputError(format!("one FILE only, got '{first}' and '{arg}'")));
            }
            file = Some(arg);
            continue;
        }
        let (option, inline) = match arg.split_once('=') {
            Some((o, v)) if o.starts_with("--") => (o.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| InputError(format!("{option} needs a value (see --help)")))
        };
        match option.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--" => only_files = true,
            "--strict" => strict = true,
            "--engine" => engine = Some(value()?),
            "--queue" => queue = Some(on_off(&option, &value()?)?),
            "--alloc" => alloc = Some(on_off(&option, &value()?)?),
            "--dispatch" => dispatch = Some(on_off(&option, &value()?)?),
            "--lock" => {
                lock = Some(match value()?.as_str() {
                    "on" => Lock::Event,
                    "off" => Lock::Off,
                    "batch" => Lock::Batch,
                    other => {
                        return Err(InputError(format!(
                            "--lock must be on, off or batch, not '{other}'"
                        )))
                    }
                })
            }
            "--batch" => batch = positive(&option, &value()?)? as usize,
            "--passes" => passes = positive(&option, &value()?)?,
            _ => return Err(InputError(format!("unknown option '{arg}' (see --help)"))),
        }
        if matches!(option.as_str(), "--strict" | "--") && inline.is_some() {
            return Err(InputError(format!("{option} takes no value")));
        }
    }
    let mut config = match &engine {
        Some(name) => configs::parse_engine(name).map_err(InputError)?,
        None => configs::PHASES[0].1,
    };
    config.queue = queue.unwrap_or(config.queue);
    config.lock = lock.unwrap_or(config.lock);
    config.alloc = alloc.unwrap_or(config.alloc);
    config.dispatch = dispatch.unwrap_or(config.dispatch);
    let file = file.ok_or_else(|| InputError("a DBN FILE is required (see --help)".into()))?;
    Ok(Command::Run(Options { config, batch, passes, strict, file }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Options, InputError> {
        match parse(args.iter().map(|a| a.to_string()))? {
            Command::Run(o) => Ok(o),
            Command::Help => panic!("help"),
        }
    }

    #[test]
    fn switches_override_the_engine_or_define_it_alone() {
        let o = run(&["--engine", "lockless", "--queue", "on", "f.dbn"]).unwrap();
        assert_eq!(configs::label(o.config), "queue");
        let o = run(&["--lock=batch", "--alloc", "off", "f.dbn"]).unwrap();
        assert_eq!(configs::label(o.config), "queue+batchlock+dispatch");
        let o = run(&["f.dbn", "--passes", "7", "--strict", "--batch", "10"]).unwrap();
        assert_eq!((o.passes, o.strict, o.batch, o.file.as_str()), (7, true, 10, "f.dbn"));
        assert_eq!(configs::label(o.config), "queue+lock+alloc+dispatch");
    }

    #[test]
    fn bad_values_are_one_line_errors() {
        assert!(run(&["--lock", "maybe", "f"]).unwrap_err().0.contains("on, off or batch"));
        assert!(run(&["--passes", "0", "f"]).unwrap_err().0.contains("positive integer"));
        assert!(run(&["--queue"]).unwrap_err().0.contains("needs a value"));
        assert!(run(&["--fast", "f"]).unwrap_err().0.contains("unknown option"));
        assert!(run(&["a", "b"]).unwrap_err().0.contains("one FILE only"));
        assert!(run(&[]).unwrap_err().0.contains("FILE is required"));
        assert!(run(&["--engine", "x", "f"]).unwrap_err().0.contains("unknown engine 'x'"));
        assert_eq!(parse(["--help".to_string()]).unwrap(), Command::Help);
    }
}
