"""One Function subclass per primitive op, grouped by kind."""
