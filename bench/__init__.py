"""Performance benchmarks, run with `make bench` (figures to read, never pass/fail).

`python -m bench` runs every benchmark; `python -m bench <name> [options]` runs one
(`python -m bench --list` names them). Each benchmark is a module with
`main(argv: list[str]) -> int` registered in `bench.__main__.BENCHMARKS`; shared helpers
(Django setup, percentiles, tables, JSON results) live in `bench.support`. Results go to
`.data/bench/<name>.json`; `docs/benchmarks.md` explains them and records the figures.
"""
