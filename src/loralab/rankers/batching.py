"""Re-export: batching lives in loralab.models (a lower floor) so classifiers and rankers share it."""

from loralab.models.batching import length_sorted_batches, mean_pool

__all__ = ["length_sorted_batches", "mean_pool"]
