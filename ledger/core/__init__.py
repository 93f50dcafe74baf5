"""What every capability shares: settings, database engine, the unit of work, errors,
the acting user (``Actor``), the evidence file store and the SQLAlchemy models.

The models stay in one module (``models.py``): their relationships cross the
capabilities (an item points at a unit, a standard, a cycle and an observation),
Alembic reads one metadata, and splitting them would make lower packages name
the upper ones' classes.  Nothing here imports another ledger package."""
