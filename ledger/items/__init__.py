"""The problem ledger (台账): the item workflow declared as data, the services
(use cases) that move items through it, queries and pages of items, free-text
search, the .xlsx export and the calendar import that settles provisional deadlines."""
