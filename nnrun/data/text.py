"""Text columns: a vocabulary learned on the training split, and raw text turned into
fixed-length sequences of token indices (Keras's TextVectorization, ``output_mode:
int``).

    state = fit_vocabulary(train_texts, spec)       # JSON-able, saved in preprocess.json
    ids = vectorize(texts, state)                   # (N, length) float32 indices

Indices follow Keras: 0 is padding (and what an ``embedding`` with ``mask_zero`` masks),
1 is ``[UNK]``, every token the vocabulary does not hold; 2, 3, ... are the training
split's tokens from the most to the least frequent (ties in alphabetical order), at
most ``max_tokens`` entries in all, the two reserved ones included. Each text is
standardized (accents typed as combining marks composed, lower case, punctuation
removed, as configured), split into words (runs
of non-space characters) or characters, then truncated to its first ``length`` tokens
or padded with 0 at the end.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from nnrun.specs import SPEC

PADDING, OOV = "", "[UNK]"
MAX_TOKENS = 10_000_000  # the largest vocabulary a text column may have
_PUNCTUATION = re.compile("[" + re.escape(string.punctuation) + "]")


class TextSpec(BaseModel):
    """The ``text`` block of a CSV source: which column holds text and how to read it."""

    model_config = SPEC

    column: str = Field(description="The column holding the text.")
    tokens: Literal["word", "char"] = Field("word", description="Split into words (on white space) or characters.")
    max_tokens: int = Field(20_000, ge=3, le=MAX_TOKENS,
                            description="Vocabulary size, padding (0) and [UNK] (1) included; the embedding's input_dim.")
    length: int = Field(64, gt=0, le=100_000, description="Tokens per text: longer texts are cut, shorter ones padded with 0.")
    lowercase: bool = Field(True, description="Lower-case the text first.")
    strip_punctuation: bool = Field(True, description="Remove ASCII punctuation first (Keras's default standardization).")
    # A text saved on macOS or pasted from a web page may type 'é' as 'e' and a combining
    # accent: without this the two spellings are two words, and one of them [UNK]. Unset, a
    # new run takes nfc, and a run saved before the option (its config.yaml has none) keeps
    # reading its texts as they were (see engine.experiment); config.yaml then says which.
    unicode: Literal["nfc", "none"] | None = Field(
        None, description="nfc: compose accents typed as combining marks ('e' + U+0301 is 'é') first, so that a "
                          "word reads the same however it was typed; none: the text as it is. Default: nfc for a new "
                          "run; a run trained before this option keeps reading texts as they are.")


def standardize(text: str, lowercase: bool, strip_punctuation: bool, unicode: str = "none") -> str:
    if unicode == "nfc":
        text = unicodedata.normalize("NFC", text)
    if lowercase:
        text = text.lower()
    if strip_punctuation:
        text = _PUNCTUATION.sub("", text)
    return text


def tokenize(text: str, state: dict) -> list[str]:
    # A run saved before the option read its texts as they were: "none".
    clean = standardize(text, state["lowercase"], state["strip_punctuation"], state.get("unicode", "none"))
    return clean.split() if state["tokens"] == "word" else list(clean)


def fit_vocabulary(texts, spec: TextSpec) -> dict:
    """The vectorizer's state from the training texts: the spec's options and the
    vocabulary, a list whose position is the index."""
    state = spec.model_dump()
    counts = Counter(token for text in texts for token in tokenize(text, state))
    counts.pop(OOV, None)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    state["vocabulary"] = [PADDING, OOV] + [token for token, _ in ranked[: spec.max_tokens - 2]]
    return state


def vectorize(texts, state: dict) -> np.ndarray:
    """(N, length) float32 token indices (the data's dtype; the embedding checks that
    each is a whole number in range)."""
    index = {token: i for i, token in enumerate(state["vocabulary"]) if i > 1}
    length = state["length"]
    out = np.zeros((len(texts), length), np.float32)
    for row, text in enumerate(texts):
        ids = [index.get(token, 1) for token in tokenize(text, state)[:length]]
        out[row, : len(ids)] = ids
    return out


def token_counts(texts, state: dict) -> np.ndarray:
    """How many tokens each text holds before it is cut to ``length``."""
    return np.array([len(tokenize(text, state)) for text in texts], np.int64)


def vocabulary_size(state: dict) -> int:
    return len(state["vocabulary"])
