"""Observation exports: a cycle's scores and a record's checklist as .xlsx, and the
printable observation record (观摩记录表) people sign on paper."""
