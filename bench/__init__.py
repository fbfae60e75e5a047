"""Benchmarks of reportqa against the LangChain recipe: `python -m bench.run [--quick]` (see bench/README.md)."""
