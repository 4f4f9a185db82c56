"""The classify task: data, training recipe, evaluation, comparison rows."""
