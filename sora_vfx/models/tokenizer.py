"""A tokenizer built in code: every byte a token, nothing downloaded.

The tiny models, the full-size random-weight models and the tests' tiny pipelines of every
family use it where the published tokenizers are SentencePiece files from the Hub.
"""

from __future__ import annotations

#: T5's special tokens, first in the vocabulary.
SPECIAL_TOKENS = ("<pad>", "</s>", "<unk>")


def byte_level_tokenizer(
    special_tokens: tuple[str, ...] = SPECIAL_TOKENS,
    *,
    eos: str = "</s>",
    bos: str | None = None,
    pad: str = "<pad>",
    unk: str = "<unk>",
    model_max_length: int | None = None,
):
    """A tokenizer built in code, nothing downloaded: every byte is a token, so every prompt
    encodes differently. ``special_tokens`` come first in the vocabulary; each prompt ends
    with ``eos`` (and starts with ``bos`` when given), as T5 and CLIP prompts do.

    Saved as a plain ``PreTrainedTokenizerFast`` (``CLIPTokenizer`` would rebuild its own BPE
    on load). The tiny models and the tests' tiny LTX/CogVideoX/AnimateDiff models use it.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    vocab = {token: i for i, token in enumerate([*special_tokens, *alphabet])}
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token=unk))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    # T5 appends </s>; Wan tokenizes with add_special_tokens=True and expects it.
    marks = [bos] if bos else []
    tokenizer.post_processor = processors.TemplateProcessing(
        single=" ".join([*marks, "$A", eos]), special_tokens=[(t, vocab[t]) for t in (*marks, eos)]
    )
    extra = {"bos_token": bos} if bos else {}
    if model_max_length is not None:
        extra["model_max_length"] = model_max_length
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token=pad, eos_token=eos, unk_token=unk, **extra)
