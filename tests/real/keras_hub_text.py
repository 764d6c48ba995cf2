"""keras_hub text backbones beyond keras_hub_backbones.py (Functional models with dict inputs):
encoders, decoder LLMs (dense and mixture-of-experts) and encoder-decoders, each built offline
from a tiny config: random weights, no preset, no download.

Source: keras-team/keras-hub (https://github.com/keras-team/keras-hub), keras_hub 0.32.0 from
PyPI, the Backbone classes of `keras_hub.models`. The Keras authors. License: Apache-2.0.
Changed: nothing in the classes; the configs are shrunk to 1-2 layers of width 8-16, in the
spirit of keras-hub's own `*_backbone_test.py` `init_kwargs` (the wheel ships no tests).
`ESM2Backbone`, `QwenBackbone` and `SmolLMBackbone` are aliases of `ESMBackbone`,
`Qwen2Backbone` and `SmolLM3Backbone`: one entry each.
"""

import keras_hub
import numpy as np

from .keras_hub_backbones import SEQUENCE, VOCAB, _built, _tokens

SOURCE = "https://github.com/keras-team/keras-hub"
FEATURES = ("keras_hub", "functional", "dict_input")

hub = keras_hub.models

# The shared shape of the tiny decoder LLMs: 1 layer, 2 query heads over 1 key/value head.
DECODER = dict(vocabulary_size=VOCAB, num_layers=1, num_query_heads=2, num_key_value_heads=1, hidden_dim=8,
               intermediate_dim=16)


# Qwen3.5: one full-attention layer. Its linear-attention (gated delta rule) layer alone takes
# about 30 s to convert and check, over this suite's budget.
QWEN3_5_LAYERS = dict(layer_types=["full_attention"], partial_rotary_factor=0.5)


def _seq2seq() -> dict:
    rng = np.random.default_rng(0)
    return {
        "encoder_token_ids": rng.integers(1, VOCAB, (2, SEQUENCE)).astype("int32"),
        "encoder_padding_mask": np.ones((2, SEQUENCE), dtype="int32"),
        "decoder_token_ids": rng.integers(1, VOCAB, (2, SEQUENCE)).astype("int32"),
        "decoder_padding_mask": np.ones((2, SEQUENCE), dtype="int32"),
    }


def xlm_roberta():
    return _built(hub.XLMRobertaBackbone(vocabulary_size=VOCAB, num_layers=1, num_heads=2, hidden_dim=8,
                                         intermediate_dim=16, max_sequence_length=SEQUENCE), _tokens())


def xlnet():
    return _built(hub.XLNetBackbone(vocabulary_size=VOCAB, num_layers=1, num_heads=2, hidden_dim=8,
                                    intermediate_dim=16), _tokens(True))


def roformer_v2():
    data = _tokens(True)
    del data["padding_mask"]
    return _built(hub.RoformerV2Backbone(vocabulary_size=VOCAB, num_layers=1, num_heads=2, hidden_dim=8,
                                         intermediate_dim=16, head_size=4), data)


def esm():
    data = _tokens()
    del data["padding_mask"]
    return _built(hub.ESMBackbone(vocabulary_size=VOCAB, num_layers=1, num_heads=2, hidden_dim=8,
                                  intermediate_dim=16, max_sequence_length=SEQUENCE), data)


def bloom():
    return _built(hub.BloomBackbone(vocabulary_size=VOCAB, num_layers=1, num_heads=2, hidden_dim=8,
                                    intermediate_dim=16), _tokens())


def gpt_neo_x():
    # rotary_percentage=0.5: the default 0.25 of a head of 4 would rotate an odd single dim.
    return _built(hub.GPTNeoXBackbone(vocabulary_size=VOCAB, num_layers=1, num_heads=2, hidden_dim=8,
                                      intermediate_dim=16, max_sequence_length=SEQUENCE, rotary_percentage=0.5),
                  _tokens())


def falcon():
    return _built(hub.FalconBackbone(vocabulary_size=VOCAB, num_layers=1, num_attention_heads=2, hidden_dim=8,
                                     intermediate_dim=16), _tokens())


def llama3():
    return _built(hub.Llama3Backbone(**DECODER), _tokens())


def qwen2():
    return _built(hub.Qwen2Backbone(**DECODER), _tokens())


def qwen3():
    return _built(hub.Qwen3Backbone(**DECODER, head_dim=4), _tokens())


def qwen3_5():
    return _built(hub.Qwen3_5Backbone(**DECODER, head_dim=4, **QWEN3_5_LAYERS), _tokens())


def phi3():
    return _built(hub.Phi3Backbone(**DECODER), _tokens())


def smollm3():
    return _built(hub.SmolLM3Backbone(vocabulary_size=VOCAB, hidden_dim=8, intermediate_dim=16, num_layers=1,
                                      num_attention_heads=2, num_key_value_heads=1, attention_bias=False,
                                      attention_dropout=0.0, rope_layer_enabled_list=[True],
                                      layer_types=["attention"], mlp_bias=False, layer_norm_epsilon=1e-5,
                                      max_position_embeddings=SEQUENCE, rope_theta=10000.0,
                                      partial_rotary_factor=1.0), _tokens())


def gemma3():
    return _built(hub.Gemma3Backbone(**DECODER, head_dim=4, image_size=16, use_post_ffw_norm=True,
                                     use_post_attention_norm=True, use_sliding_window_attention=True,
                                     sliding_window_size=4), _tokens())


def gemma3n():
    return _built(hub.Gemma3nBackbone(text_vocab_size=VOCAB, text_hidden_size=8, num_hidden_layers=1, pad_token_id=0,
                                      num_attention_heads=2, num_key_value_heads=1, head_dim=4, intermediate_size=[16],
                                      hidden_activation="gelu_approximate", layer_types=["full_attention"],
                                      sliding_window=4, rope_theta=10000.0, max_position_embeddings=SEQUENCE,
                                      vocab_size_per_layer_input=VOCAB, hidden_size_per_layer_input=2,
                                      altup_num_inputs=2, laurel_rank=1), _tokens())


def gemma4():
    data = _tokens()
    data["position_ids"] = np.tile(np.arange(SEQUENCE, dtype="int32"), (2, 1))
    return _built(hub.Gemma4Backbone(**DECODER, head_dim=4, image_size=16, use_sliding_window_attention=True,
                                     sliding_window_size=4), data)


def mixtral():
    return _built(hub.MixtralBackbone(**DECODER, num_experts=2, top_k=2, sliding_window=4), _tokens())


def qwen_moe():
    return _built(hub.QwenMoeBackbone(**DECODER, moe_intermediate_dim=8, shared_expert_intermediate_dim=8,
                                      num_experts=2, top_k=1), _tokens())


def qwen3_moe():
    return _built(hub.Qwen3MoeBackbone(**DECODER, head_dim=4, moe_intermediate_dim=8, num_experts=2, top_k=1),
                  _tokens())


def qwen3_5_moe():
    kwargs = {**DECODER}
    del kwargs["intermediate_dim"]
    return _built(hub.Qwen3_5MoeBackbone(**kwargs, head_dim=4, moe_intermediate_dim=8,
                                         shared_expert_intermediate_size=8, num_experts=2, top_k=1,
                                         **QWEN3_5_LAYERS), _tokens())


def gpt_oss():
    return _built(hub.GptOssBackbone(**DECODER, num_experts=2, top_k=2, sliding_window=4), _tokens())


def rwkv7():
    data = _tokens()
    return _built(hub.RWKV7Backbone(vocabulary_size=VOCAB, hidden_size=8, head_size=4, num_layers=1,
                                    intermediate_dim=16, gate_lora=8, mv_lora=8, aaa_lora=8, decay_lora=8), data)


def t5():
    return _built(hub.T5Backbone(vocabulary_size=VOCAB, num_layers=1, num_heads=2, hidden_dim=8, intermediate_dim=16),
                  _seq2seq())


def ed_rec():
    return _built(hub.EdRecBackbone(vocab_size=VOCAB, num_layers_enc=1, num_layers_dec=1, num_heads=2, hidden_dim=8,
                                    intermediate_dim=16), _seq2seq())


def _t5gemma_kwargs():
    side = dict(hidden_dim=8, intermediate_dim=16, num_layers=2, num_attention_heads=2, num_key_value_heads=1,
                head_dim=4, layer_types=["sliding_attention", "full_attention"])
    return {"vocabulary_size": VOCAB, "sliding_window": 4, "cross_attention_hidden_size": 8,
            **{f"{part}_{key}": value for part in ("encoder", "decoder") for key, value in side.items()}}


def t5gemma():
    return _built(hub.T5GemmaBackbone(**_t5gemma_kwargs()), _seq2seq())


def t5gemma2():
    return _built(hub.T5Gemma2Backbone(**_t5gemma_kwargs()), _seq2seq())


BACKBONES = {
    "hub_xlm_roberta": xlm_roberta,
    "hub_xlnet": xlnet,
    "hub_roformer_v2": roformer_v2,
    "hub_esm": esm,
    "hub_bloom": bloom,
    "hub_gpt_neo_x": gpt_neo_x,
    "hub_falcon": falcon,
    "hub_llama3": llama3,
    "hub_qwen2": qwen2,
    "hub_qwen3": qwen3,
    "hub_qwen3_5": qwen3_5,
    "hub_phi3": phi3,
    "hub_smollm3": smollm3,
    "hub_gemma3": gemma3,
    "hub_gemma3n": gemma3n,
    "hub_gemma4": gemma4,
    "hub_mixtral": mixtral,
    "hub_qwen_moe": qwen_moe,
    "hub_qwen3_moe": qwen3_moe,
    "hub_qwen3_5_moe": qwen3_5_moe,
    "hub_gpt_oss": gpt_oss,
    "hub_rwkv7": rwkv7,
    "hub_t5": t5,
    "hub_ed_rec": ed_rec,
    "hub_t5gemma": t5gemma,
    "hub_t5gemma2": t5gemma2,
}
