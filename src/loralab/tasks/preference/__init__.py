"""The preference task: data, training recipe, evaluation, comparison rows."""
