"""The ``sanhu`` command line: the composition root that starts the web server and
the scheduler, migrates, imports and fills the demo city (``commands.main``)."""
