"""The dashboards (SPEC §11): a unit's figures and charts, their print layout and .xlsx."""
