"""Re-ranking training data made from a corpus with no relevance labels (InPars / GPL).

The chain, each step a folder under the chain's `out`, cached and resumable (`chain.run_chain`):
generate (an LLM writes the query each sampled passage answers) → mine (BM25 and dense candidates for each query)
→ score (a teacher ranker, often an ensemble, scores the source passage and the candidates) → groups (keep a
query only when the teacher ranks its source passage near the top; write training groups with the teacher's
scores). `loralab train --task rerank --data <out>/groups.jsonl.gz --rerank-loss margin-mse` then distils the
teacher into a student. Held-out pools (`holdout`) keep the passages of evaluation queries out of every step.
"""
