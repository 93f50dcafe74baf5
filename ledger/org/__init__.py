"""The organisation: units (city → county → township → village), users and their
roles, scope lookups, passwords and sign-in throttling, the admin use cases for
users and units, and the import of organisation sheets."""
