"""The measured areas, one module each; every area is a function of the shared
``bench.harness.Measurer`` that returns its figures as a dict (``bench.measure``
runs them in order)."""
