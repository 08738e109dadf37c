"""Conditioning of the U-Net on class labels or short text strings.

Design
------
*Class labels* (Ho & Salimans 2022, classifier-free guidance): an embedding table with one row per
class plus one *null* row (index ``num_classes``). The label embedding is added to the timestep
embedding, so every residual block sees it. Training replaces a fraction of labels by the null label;
sampling combines the conditional and null predictions with a guidance scale.

*Text* (e.g. the CAPTCHA string "fngff"): the string is split into characters; each character gets a
learned embedding plus a learned embedding of its position in the string, and a small Transformer
encoder lets characters see each other. The network uses the encoded characters twice:
(1) their mean, projected, is added to the timestep embedding (global style: how many strokes, how
dark), and (2) the attention blocks cross-attend from every image position to the characters
(Rombach et al. 2022, Sec. 3.3), which is what places each character at its place in the image.
The null condition is a string made only of a reserved NULL token; strings shorter than the maximum
length are padded with a reserved PAD token.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from ddpm.errors import ConfigError


class CharTokenizer:
    """Maps strings over ``alphabet`` to fixed-length token ids; PAD and NULL follow the alphabet."""

    def __init__(self, alphabet: str, max_length: int):
        if not alphabet or len(set(alphabet)) != len(alphabet):
            raise ConfigError(f"text alphabet must be non-empty with distinct characters, got {alphabet!r}")
        if max_length < 1:
            raise ConfigError(f"max text length must be at least 1, got {max_length}")
        self.alphabet = alphabet
        self.max_length = max_length
        self.pad_id = len(alphabet)
        self.null_id = len(alphabet) + 1
        self.vocab_size = len(alphabet) + 2
        self._index = {ch: i for i, ch in enumerate(alphabet)}

    def encode(self, texts: Sequence[str], device: torch.device | str | None = None) -> torch.Tensor:
        """Token ids, shape (len(texts), max_length)."""
        rows = []
        for text in texts:
            if len(text) > self.max_length:
                raise ConfigError(f"text {text!r} is longer than the model's maximum of {self.max_length} characters")
            unknown = sorted(set(text) - set(self.alphabet))
            if unknown:
                raise ConfigError(f"text {text!r} has characters {unknown} outside the alphabet {self.alphabet!r}")
            ids = [self._index[ch] for ch in text]
            rows.append(ids + [self.pad_id] * (self.max_length - len(ids)))
        return torch.tensor(rows, dtype=torch.long, device=device).view(len(rows), self.max_length)

    def decode(self, tokens: torch.Tensor) -> list[str]:
        return ["".join(self.alphabet[i] for i in row if i < len(self.alphabet)) for row in tokens.tolist()]


class ClassEmbedding(nn.Module):
    """Label embedding with a null row at index ``num_classes`` for classifier-free guidance."""

    def __init__(self, num_classes: int, dim: int):
        super().__init__()
        if num_classes < 1:
            raise ConfigError("class conditioning needs a dataset with at least one class")
        self.num_classes = num_classes
        self.embedding = nn.Embedding(num_classes + 1, dim)

    def null_like(self, labels: torch.Tensor) -> torch.Tensor:
        return torch.full_like(labels, self.num_classes)

    def forward(self, labels: torch.Tensor) -> torch.Tensor:
        return self.embedding(labels)


class TextEncoder(nn.Module):
    """Character + position embeddings and a small pre-norm Transformer encoder."""

    def __init__(self, vocab_size: int, max_length: int, dim: int, num_layers: int, num_heads: int, null_id: int):
        super().__init__()
        self.null_id = null_id
        self.token = nn.Embedding(vocab_size, dim)
        self.position = nn.Parameter(torch.randn(1, max_length, dim) * 0.02)
        layer = nn.TransformerEncoderLayer(
            dim, num_heads, dim_feedforward=4 * dim, dropout=0.0, activation="gelu", batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)

    def null_like(self, tokens: torch.Tensor) -> torch.Tensor:
        return torch.full_like(tokens, self.null_id)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, L) token ids -> (B, L, dim) character features."""
        return self.norm(self.encoder(self.token(tokens) + self.position))
