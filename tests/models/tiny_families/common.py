"""Tiny text components shared by the tiny pipelines of several families, built offline."""

from __future__ import annotations

from sora_vfx.models.tokenizer import byte_level_tokenizer

TEXT_DIM = 32
MAX_TOKENS = 16


def text_tokenizer():
    # model_max_length: AnimateDiff pads CLIP prompts to it.
    return byte_level_tokenizer(model_max_length=MAX_TOKENS)


def t5_encoder(vocab_size: int, width: int = TEXT_DIM):
    """A one-layer T5 encoder ``width`` wide, random weights from the global generator."""
    from transformers import T5Config, T5EncoderModel

    return T5EncoderModel(
        T5Config(
            vocab_size=vocab_size,
            d_model=width,
            d_kv=8,
            d_ff=64,
            num_layers=1,
            num_heads=4,
            relative_attention_num_buckets=8,
            relative_attention_max_distance=32,
            dropout_rate=0.0,
            pad_token_id=0,
            eos_token_id=1,
            decoder_start_token_id=0,
        )
    )
