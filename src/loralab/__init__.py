"""loralab: find and ship the best way to adapt a transformer for a task under a budget."""

__version__ = "0.1.0"
