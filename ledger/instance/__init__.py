"""One running Sanhu: build it from settings (``bootstrap``), bring its database up
to date (``migrate``) and fill it with the demo city (``demo``).  The top of the
ledger: it may use every capability, and none of them uses it."""
