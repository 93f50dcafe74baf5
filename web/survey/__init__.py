"""Survey pages (调查表): the secretary's form, the review lists, the export."""
