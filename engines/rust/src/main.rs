//! mbobench-rust: mbobench's backtest in Rust, every phase of the refactoring plan as one
//! configuration of one generic engine, run on a DBN MBO file as a command engine
//! (`mbobench run --engine 'cmd:mbobench-rust --engine lockless {file}'`).
//!
//! Each pass opens the file, reads, decodes, validates and processes every record with fresh
//! state, and prints one JSON line on stdout once its clock has stopped. Bad usage or input is
//! one line on stderr and exit code 2.

mod book;
mod cli;
mod configs;
mod digest;
mod engine;
mod error;
mod fills;
mod hash;
mod market;
mod metadata;
mod reader;
mod record;
mod strategies;
mod validate;
mod zstd;

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use cli::{Command, Options};
use error::InputError;
use reader::Reader;

fn main() -> ExitCode {
    // Arguments that are not UTF-8 are refused in one line (std::env::args would panic).
    let args: Result<Vec<String>, _> =
        std::env::args_os().skip(1).map(|a| a.into_string()).collect();
    let args = match args {
        Ok(args) => args,
        Err(bad) => {
            eprintln!("mbobench-rust: error: argument {bad:?} is not valid UTF-8");
            return ExitCode::from(2);
        }
    };
    match run(args.into_iter()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mbobench-rust: error: {error}");
            ExitCode::from(2)
        }
    }
}

fn run(args: impl Iterator<Item = String>) -> Result<(), InputError> {
    let options = match cli::parse(args)? {
        Command::Help => {
            print!("{}", cli::usage());
            return Ok(());
        }
        Command::Run(options) => options,
    };
    let mut stdout = std::io::stdout().lock();
    for pass in 0..options.passes {
        let line = one_pass(pass, &options)?;
        writeln!(stdout, "{line}")
            .and_then(|()| stdout.flush())
            .map_err(|e| InputError(format!("cannot write the results to stdout ({e})")))?;
    }
    Ok(())
}

/// One whole pass: open, read, decode, validate and process; the result as a JSON line.
fn one_pass(pass: u64, options: &Options) -> Result<String, InputError> {
    let start = Instant::now();
    let mut reader = Reader::open(&options.file)?;
    let totals = configs::run(options.config, &mut reader, options.strict, options.batch)?;
    drop(reader);
    let elapsed_ns = start.elapsed().as_nanos();
    Ok(format!(
        "{{\"pass\": {pass}, \"events\": {}, \"event_ends\": {}, \"unknown_orders\": {}, \
         \"fills\": {}, \"digest\": \"{}\", \"elapsed_ns\": {elapsed_ns}}}",
        totals.events, totals.event_ends, totals.unknown_orders, totals.fills, totals.digest
    ))
}
