"""The standards catalog (42 basic + 23 demonstration lines), shipped as
``data/standards.json`` verbatim from the seed document, and its versions."""
