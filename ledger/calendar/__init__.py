"""Working days: the official holiday schedule (imported per year, with a
Monday–Friday fallback), working-day arithmetic and deadlines given as dates, days
or working days."""
