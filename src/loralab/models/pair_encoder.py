"""A bi-encoder trained as a re-ranker: one shared encoder embeds the query and each document apart (mean-pooled,
L2-normalized, as `rankers.bi_encoder` scores them) and a pair's score is their cosine times a fixed scale.

Training a re-ranker this way starts where the backbone's embeddings already are (all-MiniLM-L6-v2: DL19 0.64
zero-shot), where a cross-encoder's new 1-logit head starts from noise and, on a few hundred label-free groups,
ended at 0.43 (experiments/labelfree-dl19). The artifact is the encoder alone (adapter/ or model/), so any
bi-encoder ranker, retriever or vector store loads it as it loads the backbone.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from transformers.modeling_outputs import SequenceClassifierOutput

from loralab.models.batching import mean_pool

# Cosine x 20 are the logits of the MultipleNegativesRanking loss that trained the sentence-transformers MiniLM and
# mpnet models, so the listwise loss starts at the temperature their embeddings were shaped for.
COSINE_SCALE = 20.0


class PairEncoder(nn.Module):
    def __init__(self, encoder: nn.Module, scale: float = COSINE_SCALE):
        super().__init__()
        self.encoder = encoder
        self.scale = scale

    def embed(self, input_ids, attention_mask, token_type_ids=None) -> torch.Tensor:
        kwargs = {"token_type_ids": token_type_ids} if token_type_ids is not None else {}
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask, **kwargs).last_hidden_state
        return F.normalize(mean_pool(hidden.float(), attention_mask), dim=-1)

    def forward(self, input_ids, attention_mask, query_input_ids, query_attention_mask, token_type_ids=None,
                query_token_type_ids=None, labels=None):
        """Documents are [queries x docs per query, length], grouped by query in order; logits [documents, 1]."""
        queries = self.embed(query_input_ids, query_attention_mask, query_token_type_ids)
        docs = self.embed(input_ids, attention_mask, token_type_ids).view(queries.shape[0], -1, queries.shape[1])
        scores = self.scale * (docs * queries[:, None, :]).sum(dim=-1)
        return SequenceClassifierOutput(logits=scores.reshape(-1, 1))
