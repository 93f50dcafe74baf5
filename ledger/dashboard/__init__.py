"""Dashboards (SPEC §11): where each unit stands, from summary tables a job keeps."""
