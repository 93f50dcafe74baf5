"""The overdue board (逾期督办), supervision acts and records, printable notices."""
