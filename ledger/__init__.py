"""The Sanhu domain: organisation, standards, cycles, ledger items and their workflow.

This package must not import Flask, APScheduler, ``web`` or ``schedules``:
dependencies point inward (see tests/unit/test_layering.py).
"""
