"""Results and verdicts: the result file (`resultfile`: a pyperf suite with mbobench's metadata,
its constants and its loading), and what is computed from result files alone: `compare`
(changes and their significance, by `stats`), `gate` (thresholds to verdicts), `attribution`
(the four costs by Shapley values) and `categories` (where a profiled function's time goes).
Takes result files; hands on rows, changes, checks and attributions, for `render`."""
