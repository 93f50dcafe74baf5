"""Results (结果运用): rankings of a cycle's targets per observing unit, the classes
示范 / 中间 / 后进 and their approval and publication, and the funds (以奖代补) that
follow a published ranking."""
