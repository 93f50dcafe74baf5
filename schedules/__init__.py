"""APScheduler wiring and thin job functions (SPEC §9).

``scheduler`` builds the scheduler and its jobs, ``jobs`` holds the job
functions (each opens a unit of work and calls one ``ledger`` service),
``leader`` makes sure only one scheduler acts per database, ``runs`` records
each run.  Nothing in ``ledger`` imports this package.

For the admin pages: ``jobs_overview(app)``, ``run_now(app, job_id)``.
"""

from schedules.scheduler import jobs_overview, run_now

__all__ = ["jobs_overview", "run_now"]
