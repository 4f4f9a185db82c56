"""Dataset readers (BEIR, TREC, JSONL) and the registry of named datasets."""
