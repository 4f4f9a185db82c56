"""First-stage retrieval: BM25 (bm25s), dense, hybrid; feeds candidates to the re-rankers."""
