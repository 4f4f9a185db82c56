"""What the causal-LM tasks (regress, sft) share: completion data, training recipe, loading."""
