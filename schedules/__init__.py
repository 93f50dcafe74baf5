"""APScheduler wiring and thin job functions (built in the schedules issue).

Jobs open a unit of work and call a ``ledger`` service; nothing in ``ledger``
imports this package.
"""
