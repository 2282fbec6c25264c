"""Keras's words for a text's settings, for the "did you mean" of config errors (see
:mod:`.keras_words`): the names of TextVectorization's, Tokenizer's and pad_sequences'
arguments that nnrun's text block (``data.source.text``) names otherwise, and those it
has no key for, with what nnrun does instead.
"""

from __future__ import annotations

# A text's settings as Keras's TextVectorization, pad_sequences and Tokenizer (and most
# tutorials) name them; spelling alone points max_len at max_tokens, the vocabulary's size.
TEXT_KEYS = dict.fromkeys(("max_len", "maxlen", "max_length", "seq_len", "sequence_length", "output_sequence_length"),
                          "length") | dict.fromkeys(("vocab_size", "num_words", "max_features", "vocabulary_size"),
                                                    "max_tokens") | {"lower": "lowercase"}

# The rest of TextVectorization's, Tokenizer's and pad_sequences' arguments, where they
# are given in a text block (whose keys include tokens): what nnrun does instead.
TEXT_WORDS = {
    "split": "how a text is split is 'tokens' here: word (on white space, Keras's split='whitespace') or char "
             "(split='character')",
    "char_level": "characters as tokens are tokens: char here",
    "standardize": "Keras's standardization is lowercase and strip_punctuation here (both true by default); set "
                   "those instead",
    "filters": "the punctuation Tokenizer filters out is strip_punctuation here (true by default); set it instead",
    "oov_token": "a word outside the vocabulary is always '[UNK]', index 1 (0 is the padding); remove this key",
    "output_mode": "a text becomes its token indices (Keras's output_mode 'int'), which an embedding layer reads; "
                   "remove this key",
    "padding": "a shorter text is padded with 0 at its end (Keras's padding='post'; mask_zero: true on the "
               "embedding skips it); remove this key",
    "truncating": "a longer text keeps its first tokens (Keras's truncating='post'); remove this key",
    "ngrams": "n-grams are not offered: each token is one word or character",
    "vocabulary": "the vocabulary is learned from the training split's texts (its most frequent max_tokens - 2 "
                  "tokens); a vocabulary given in advance is not offered",
}
