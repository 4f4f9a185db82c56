"""The regress task: data, training recipe, evaluation, comparison rows."""
