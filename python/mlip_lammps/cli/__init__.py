"""Command-line entry points: ``mlip-train`` and ``mlip``."""
