"""keras_hub backbones (Functional models with dict inputs), each built offline from a tiny
config: random weights, no preset, no download.

Source: keras-team/keras-hub (https://github.com/keras-team/keras-hub), keras_hub 0.32.0 from
PyPI, the Backbone classes of `keras_hub.models`. The Keras authors. License: Apache-2.0.
Changed: nothing in the classes; the configs are shrunk to 1-2 layers of width 8-16 (ResNet
keeps 64 filters: its class requires them after a 64-filter stem), in the
spirit of keras-hub's own `*_backbone_test.py` `init_kwargs` (the wheel ships no tests).

More backbones, each from its own tiny config, are in keras_hub_text.py, keras_hub_vision.py and
keras_hub_multimodal.py; `real.HUB_MODULES` lists the four files. Together they build 71 of the
74 concrete Backbone classes of keras_hub 0.32.0 (77 names in `keras_hub.models` besides the base
classes `Backbone` and `FeaturePyramidBackbone`: `ESM2Backbone`, `QwenBackbone` and
`SmolLMBackbone` are aliases of `ESMBackbone`, `Qwen2Backbone` and `SmolLM3Backbone`).

Left out, with the reason (each was built offline and checked; too slow for the suite):
- BASNetBackbone: its refinement heads need a 4-stage ResNet encoder of 64 filters and 64
  projection filters (smaller ones do not fit its decoder): 215 leaf layers, over 60 s to check.
- DFineBackbone: 280 leaf layers even with one encoder and one decoder layer; over 100 s to
  trace and check (the decoder region falls to the graph strategy).
- SAM3PromptableConceptBackbone: its six sub-models make 155 leaf layers with one layer each;
  the symbolic strategy stops ("A KerasTensor cannot be used as input to a TensorFlow
  function") and the graph strategy takes over 70 s to trace.
"""

import keras
import keras_hub
import numpy as np

SOURCE = "https://github.com/keras-team/keras-hub"
FEATURES = ("keras_hub", "functional", "dict_input")

SEQUENCE = 8
VOCAB = 20


def _tokens(segments: bool = False, mask_key: str = "padding_mask") -> dict:
    """A batch of 2 token sequences with a padding mask (and segment ids)."""
    rng = np.random.default_rng(0)
    data = {
        "token_ids": rng.integers(1, VOCAB, (2, SEQUENCE)).astype("int32"),
        mask_key: np.ones((2, SEQUENCE), dtype="int32"),
    }
    if segments:
        data["segment_ids"] = np.zeros((2, SEQUENCE), dtype="int32")
    return data


def _image(size: int = 16) -> np.ndarray:
    return np.random.default_rng(0).uniform(0, 1, (2, size, size, 3)).astype("float32")


def fresh_names() -> None:
    """Start a fresh Keras session: Keras numbers auto-named layers (`conv2d_3`) per session, and
    the test's UNREACHED and HIDDEN lists name some; after this they do not depend on what was
    built before."""
    keras.utils.clear_session()


def _built(backbone, inputs):
    backbone(inputs)
    return backbone, (inputs,), {}


def bert():
    return _built(keras_hub.models.BertBackbone(vocabulary_size=VOCAB, num_layers=1, num_heads=2, hidden_dim=8,
                                                intermediate_dim=16, max_sequence_length=SEQUENCE), _tokens(True))


def roberta():
    return _built(keras_hub.models.RobertaBackbone(vocabulary_size=VOCAB, num_layers=1, num_heads=2, hidden_dim=8,
                                                   intermediate_dim=16, max_sequence_length=SEQUENCE), _tokens())


def distil_bert():
    return _built(keras_hub.models.DistilBertBackbone(vocabulary_size=VOCAB, num_layers=1, num_heads=2, hidden_dim=8,
                                                      intermediate_dim=16, max_sequence_length=SEQUENCE), _tokens())


def albert():
    return _built(keras_hub.models.AlbertBackbone(vocabulary_size=VOCAB, num_layers=2, num_heads=2, embedding_dim=8,
                                                  hidden_dim=8, intermediate_dim=16, num_groups=1,
                                                  max_sequence_length=SEQUENCE), _tokens(True))


def electra():
    return _built(keras_hub.models.ElectraBackbone(vocab_size=VOCAB, num_layers=1, num_heads=2, hidden_dim=8,
                                                   embedding_dim=8, intermediate_dim=16,
                                                   max_sequence_length=SEQUENCE), _tokens(True))


def deberta_v3():
    return _built(keras_hub.models.DebertaV3Backbone(vocabulary_size=VOCAB, num_layers=1, num_heads=2, hidden_dim=8,
                                                     intermediate_dim=16, max_sequence_length=SEQUENCE,
                                                     bucket_size=4), _tokens())


def f_net():
    data = _tokens(True)
    del data["padding_mask"]
    return _built(keras_hub.models.FNetBackbone(vocabulary_size=VOCAB, num_layers=1, hidden_dim=8,
                                                intermediate_dim=16, max_sequence_length=SEQUENCE), data)


def gpt2():
    return _built(keras_hub.models.GPT2Backbone(vocabulary_size=VOCAB, num_layers=1, num_heads=2, hidden_dim=8,
                                                intermediate_dim=16, max_sequence_length=SEQUENCE), _tokens())


def opt():
    return _built(keras_hub.models.OPTBackbone(vocabulary_size=VOCAB, num_layers=1, num_heads=2, hidden_dim=8,
                                               intermediate_dim=16, max_sequence_length=SEQUENCE), _tokens())


def llama():
    return _built(keras_hub.models.LlamaBackbone(vocabulary_size=VOCAB, num_layers=1, num_query_heads=2,
                                                 num_key_value_heads=1, hidden_dim=8, intermediate_dim=16), _tokens())


def gemma():
    return _built(keras_hub.models.GemmaBackbone(vocabulary_size=VOCAB, num_layers=1, num_query_heads=2,
                                                 num_key_value_heads=1, hidden_dim=8, intermediate_dim=16,
                                                 head_dim=4), _tokens())


def mistral():
    return _built(keras_hub.models.MistralBackbone(vocabulary_size=VOCAB, num_layers=1, num_query_heads=2,
                                                   num_key_value_heads=1, hidden_dim=8, intermediate_dim=16,
                                                   sliding_window=SEQUENCE), _tokens())


def bart():
    rng = np.random.default_rng(0)
    data = {
        "encoder_token_ids": rng.integers(1, VOCAB, (2, SEQUENCE)).astype("int32"),
        "encoder_padding_mask": np.ones((2, SEQUENCE), dtype="int32"),
        "decoder_token_ids": rng.integers(1, VOCAB, (2, SEQUENCE)).astype("int32"),
        "decoder_padding_mask": np.ones((2, SEQUENCE), dtype="int32"),
    }
    return _built(keras_hub.models.BartBackbone(vocabulary_size=VOCAB, num_layers=1, num_heads=2, hidden_dim=8,
                                                intermediate_dim=16, max_sequence_length=SEQUENCE), data)


def resnet():
    return _built(keras_hub.models.ResNetBackbone(input_conv_filters=[64], input_conv_kernel_sizes=[7],
                                                  stackwise_num_filters=[64, 64], stackwise_num_blocks=[1, 1],
                                                  stackwise_num_strides=[1, 2], block_type="basic_block",
                                                  image_shape=(16, 16, 3)), _image())


def vit():
    return _built(keras_hub.models.ViTBackbone(image_shape=(16, 16, 3), patch_size=8, num_layers=1, num_heads=2,
                                               hidden_dim=8, mlp_dim=16), _image())


def vgg():
    return _built(keras_hub.models.VGGBackbone(stackwise_num_repeats=[1, 1], stackwise_num_filters=[4, 8],
                                               image_shape=(16, 16, 3)), _image())


BACKBONES = {
    "hub_bert": bert,
    "hub_roberta": roberta,
    "hub_distil_bert": distil_bert,
    "hub_albert": albert,
    "hub_electra": electra,
    "hub_deberta_v3": deberta_v3,
    "hub_f_net": f_net,
    "hub_gpt2": gpt2,
    "hub_opt": opt,
    "hub_llama": llama,
    "hub_gemma": gemma,
    "hub_mistral": mistral,
    "hub_bart": bart,
    "hub_resnet": resnet,
    "hub_vit": vit,
    "hub_vgg": vgg,
}
