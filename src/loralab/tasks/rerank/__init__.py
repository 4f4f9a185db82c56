"""The rerank task: data, training recipe, evaluation, comparison rows."""
