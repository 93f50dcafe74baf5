"""Result pages: a cycle's ranking per observing unit, classes, approval and publication,
and the funds (以奖代补) of a published ranking."""
