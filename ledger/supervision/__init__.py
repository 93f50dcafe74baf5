"""Supervision of overdue items (督办): 催办, 约谈, 函询, 挂牌督办 and 通报 (``acts``), and
the overdue board with its escalation suggestions (``board``)."""
