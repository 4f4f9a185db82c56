"""HTTP serving: Cohere/TEI-compatible rerank and classify over the same library calls the CLI makes."""
