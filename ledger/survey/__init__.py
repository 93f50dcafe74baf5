"""The village survey (《党支部基本状况及村级基本情况调查表》): one per village and year.

Owns the form's fields as data (``fields``: key, Chinese label, type, unit and
the basic / demonstration standards each field serves), the survey's tables
(``models``: ``surveys`` with the answers as JSON, append-only ``survey_events``),
its lifecycle as a rulebook table (``workflow``: draft → submitted → returned →
resubmitted → accepted → archived), the use cases (``services``: open, save,
submit, return, accept, archive), the reading (``queries``: a year's overview of
the villages in scope, a village's surveys, the history and its replay) and the
.xlsx export per township and county (``export``).
"""
