"""Texts as vectors: a vocabulary, bag-of-words counts and TF-IDF, in sparse matrices.

The text VAE reads TF-IDF (sublinear term frequency, L2-normalised rows) and reconstructs the bag of words,
so the vocabulary and its inverse document frequencies travel with the model (its checkpoint config holds
the words; the IDF is a buffer in its weights).

Example
-------
>>> vocab = build_vocabulary(["the cat sat", "a cat ran", "dogs ran far"], min_df=1, max_df=1.0)
>>> vocab.words
['cat', 'ran', 'dogs', 'far', 'sat']
>>> tfidf(["cat ran"], vocab).shape
(1, 5)
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from latentstudio.errors import ParameterError

_TOKEN = re.compile(r"[a-z][a-z']*[a-z]")


def _stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


def tokenize(text: str) -> list[str]:
    """Lower-case words of two or more letters, English stop words removed."""
    stop = _stop_words()
    return [w for w in _TOKEN.findall(text.lower()) if w not in stop]


@dataclass
class Vocabulary:
    """Words (most frequent first by document frequency) and their smoothed inverse document frequency."""

    words: list[str]
    idf: np.ndarray

    def __post_init__(self) -> None:
        self.index = {w: i for i, w in enumerate(self.words)}

    def __len__(self) -> int:
        return len(self.words)


def build_vocabulary(texts: list[str], *, max_words: int = 2000, min_df: int = 3,
                     max_df: float = 0.5) -> Vocabulary:
    """The ``max_words`` words in most documents (at least ``min_df``, at most a ``max_df`` fraction).

    Raises
    ------
    ParameterError : bad limits, or no word passes them
    """
    if max_words < 2:
        raise ParameterError(f"max_words={max_words} must be at least 2")
    if min_df < 1:
        raise ParameterError(f"min_df={min_df} must be at least 1")
    if not 0 < max_df <= 1:
        raise ParameterError(f"max_df={max_df} must be in (0, 1]")
    df: Counter[str] = Counter()
    for t in texts:
        df.update(set(tokenize(t)))
    n = max(len(texts), 1)
    ok = [(w, c) for w, c in df.items() if c >= min_df and c / n <= max_df]
    ok.sort(key=lambda wc: (-wc[1], wc[0]))
    ok = ok[:max_words]
    if len(ok) < 2:
        raise ParameterError(f"only {len(ok)} words occur in at least min_df={min_df} of the {len(texts)} texts; "
                             "give more texts or lower min_df")
    words = [w for w, _ in ok]
    idf = np.array([np.log((1 + n) / (1 + c)) + 1.0 for _, c in ok], dtype=np.float32)
    return Vocabulary(words, idf)


def counts(texts: list[str], vocab: Vocabulary) -> sp.csr_matrix:
    """Bag-of-words counts ``(len(texts), len(vocab))`` float32 (words outside the vocabulary dropped)."""
    rows, cols, vals = [], [], []
    for r, t in enumerate(texts):
        c = Counter(vocab.index[w] for w in tokenize(t) if w in vocab.index)
        rows.extend([r] * len(c))
        cols.extend(c.keys())
        vals.extend(c.values())
    return sp.csr_matrix((np.asarray(vals, dtype=np.float32), (rows, cols)), shape=(len(texts), len(vocab)))


def tfidf_from_counts(c: sp.csr_matrix, idf: np.ndarray) -> sp.csr_matrix:
    """Sublinear TF-IDF, rows L2-normalised (an empty row stays zero)."""
    x = c.copy().astype(np.float32)
    x.data = 1.0 + np.log(x.data)
    x = x.multiply(idf[None, :]).tocsr()
    norm = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    norm[norm == 0] = 1.0
    return sp.diags(1.0 / norm).dot(x).tocsr().astype(np.float32)


def tfidf(texts: list[str], vocab: Vocabulary) -> sp.csr_matrix:
    """TF-IDF rows of ``texts`` under ``vocab``."""
    return tfidf_from_counts(counts(texts, vocab), vocab.idf)


def to_torch(x: sp.csr_matrix):
    """A scipy CSR matrix as a dense float32 torch tensor (batches are small)."""
    import torch

    return torch.from_numpy(np.asarray(x.todense(), dtype=np.float32))


def to_torch_sparse(x: sp.csr_matrix):
    """A scipy CSR matrix as a sparse COO float32 torch tensor."""
    import torch

    coo = x.tocoo()
    idx = torch.from_numpy(np.vstack([coo.row, coo.col]).astype(np.int64))
    return torch.sparse_coo_tensor(idx, torch.from_numpy(coo.data.astype(np.float32)), coo.shape,
                                   check_invariants=False).coalesce()
