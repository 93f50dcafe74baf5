"""Observation pages: cycles, the record in the field, highlights."""
