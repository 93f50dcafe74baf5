"""The Sanhu benchmark (SPEC §13-14): ``python -m bench.benchmark --help``."""
