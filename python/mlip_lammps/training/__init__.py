"""Training: configuration, loop, metrics."""
