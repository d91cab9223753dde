"""History: results across commits and machines. `store` keeps every result by machine, commit,
file, engine, preset and measure; `series` reads them back as one series per (machine, file,
engine, preset, measure) in commit order; `changepoints` finds where a series' level steps;
`commits` measures a suite at past commits (a worktree and an environment each), and `bisect`
names the first slower one. Takes result files and the runner; hands on stored results and
series, for `render`."""
