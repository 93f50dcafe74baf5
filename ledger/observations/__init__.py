"""Observation cycles (观摩): opening the quarterly and half-yearly cycles with
their frozen standards and one observation row per target."""
