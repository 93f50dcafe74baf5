"""Result pages: a cycle's ranking per observing unit, classes, approval and publication."""
