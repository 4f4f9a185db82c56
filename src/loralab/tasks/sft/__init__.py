"""The sft task: data, training recipe, evaluation, comparison rows."""
