"""Tasks: what is predicted and how it is scored (rerank first; classify, preference, regress, sft later)."""
