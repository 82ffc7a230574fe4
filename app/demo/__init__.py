"""Demo and load data: hand-written comment threads for the demo posts, synthetic bulk data for benchmarks."""
