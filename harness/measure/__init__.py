"""Measuring: takes DBN files and engine names and hands on result files. `runner` measures a
suite (the reading ceiling of `ceiling`, then every engine) through pyperf's processes running
`worker`, or `command` for an engine that is a program; `config` holds the settings; `profiling`
runs py-spy or scalene and writes profiles (never timings)."""
