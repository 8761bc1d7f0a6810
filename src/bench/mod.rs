//! Benchmark harness (see `profiled-bench --help`). Owned by the benchmark work.
