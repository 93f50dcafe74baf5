"""The home page: each role's sections of work to do."""
