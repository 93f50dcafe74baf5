"""One item: recording a finding, the item page with its event forms, evidence
uploads and downloads."""
