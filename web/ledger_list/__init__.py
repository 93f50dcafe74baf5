"""The ledger list (台账): filters, the .xlsx export and bulk actions."""
