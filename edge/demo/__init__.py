"""The demo shop "Szczyt" (an origin app for ``edge demo``, tests and benchmarks) and its data."""
