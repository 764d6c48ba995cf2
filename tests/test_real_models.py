"""compose on real model definitions (tests/real/: keras.io examples, TensorFlow tutorials,
keras.applications, keras_hub backbones): what a user would check after `pip install`.

For every model: the trace finishes with no problem and reaches every leaf layer (or exactly the
ones listed in UNREACHED, with the reason); every layer that influences the output has a path to
an output in the graph (the gradient check), but for exactly those listed in HIDDEN; and either
the conversion works (twin equals the model, survives a safe-mode `.keras` round trip and
`clone_model`, and its intermediates equal the model's) or it fails today exactly as REFUSED
says. A fix in compose shows as a REFUSED (or UNREACHED, HIDDEN) entry to remove.
"""

import json
from pathlib import Path

import keras
import pytest

import compose
from real import MODELS, checks, hub_backbones


def _mha(*paths: str) -> tuple[str, ...]:
    """The softmax and dropout layers of Keras MultiHeadAttention layers at ``paths``."""
    return tuple(f"{path}/{name}" for path in paths for name in ("_softmax", "_dropout_layer"))


# Leaf layers a trace cannot reach, and why. Anything else unreached is a failure.
UNREACHED = {
    # ViTDistilled.__init__ replaces ViTClassifier's `head` by a new Dense; Keras 3 keeps
    # tracking the replaced one, which no call uses.
    "deit_vit": ("classification_head",),
    # Gemma's attention calls its dropout layer only when `dropout > 0`; the config has 0.
    "hub_gemma": ("decoder_block_0/attention/dropout_layer",),
    "hub_gemma3": ("decoder_block_0/attention/dropout_layer",),
    "hub_pali_gemma": ("decoder_block_0/attention/dropout_layer",),
    # Gemma3n's attention calls its dropout only when training.
    "hub_gemma3n": ("multimodal_embedding_processor/language_model/transformer_layers.0/attention/dropout",),
    # Gemma4's decoder block multiplies by its feedforward layers' kernels, never calling them.
    "hub_gemma4": ("decoder_block_0/attention/dropout_layer", "decoder_block_0/gating_ffw",
                   "decoder_block_0/gating_ffw_2", "decoder_block_0/ffw_linear"),
    # ESM's attention builds its own rotary layer; the one its RoFormer base class made is unused.
    "hub_esm": ("transformer_layer_0/attention_layer/roformr_positional_embedding_1",),
    # GPT-NeoX's decoder makes a feedforward dropout its call never uses.
    "hub_gpt_neo_x": ("transformer_layer_0/_feedforward_dropout",),
    # EdRec's MLP calls its dropout only when the rate is > 0; Keras's MultiHeadAttention takes
    # the fused dot-product-attention path, never calling its own softmax and dropout layers.
    "hub_ed_rec": ("encoder_layer_0/mlp/dropout", *_mha("decoder_layer_0/self_attention"),
                   *_mha("decoder_layer_0/cross_attention"), "decoder_layer_0/mlp/dropout"),
    "hub_blip2": _mha("blip2_custom_opt/transformer_layer_0/self_attention"),
    "hub_parseq": _mha("decoder/decoder_layers.0/self_attention", "decoder/decoder_layers.0/cross_attention"),
    "hub_whisper": _mha("transformer_encoder_layer_0/self_attention_layer",
                        "transformer_decoder_layer_0/self_attention",
                        "transformer_decoder_layer_0/_cross_attention_layer"),
    "hub_moonshine": _mha("encoder_block_0/self_attention_layer", "decoder_block_0/self_attention",
                          "decoder_block_0/cross_attention"),
    # EfficientNet makes squeeze-excite layers for a block whose ratio is 0, and a dropout for a
    # residual that a strided block does not have; neither is called.
    "hub_efficientnet": ("block1a_/se_conv1", "block1a_/se_conv2", "block2a_/dropout_layer"),
    # HGNetV2's block calls its drop-path layer only when its rate is > 0.
    "hub_hgnetv2": ("encoder/stages_list.0/blocks_list.0/drop_path_layer",),
    # ViTDet calls its WindowPartitioning layer's `partition`/`unpartition` methods, never the
    # layer itself.
    "hub_vit_det": ("windowed_transformer_encoder/window_partitioning",
                    "windowed_transformer_encoder_1/window_partitioning"),
    # Depth Anything's first fusion stage has no residual input for its first residual layer.
    "hub_depth_anything": tuple(f"neck/fusion_stage.0/residual_layer1/{name}" for name in (
        "activation1", "padding1", "convolution1", "activation2", "padding2", "convolution2")),
    # SAM: the ViTDet window layer as above; the prompt encoder calls its positional embedding's
    # methods only, and its mask downscaler only when masks are given (the inputs give none).
    "hub_sam": ("windowed_transformer_encoder/window_partitioning", "sam_prompt_encoder/positional_embedding_layer",
                *(f"sam_prompt_encoder/mask_downscaler/{name}" for name in (
                    "conv2d_3", "layer_normalization_4", "activation_1", "conv2d_4", "layer_normalization_5",
                    "activation_2", "conv2d_5"))),
    # Flux's double-stream block computes attention itself from its SelfAttention layers' parts,
    # never calling their own attention layer.
    "hub_flux": ("double_stream_block/image_attn/attention", "double_stream_block/text_attn/attention"),
}

# Layers that influence the output with no path to an output in the graph (the gradient check),
# and why. Anything else is a failure. Remove an entry when compose's graph shows the path.
HIDDEN = {
    # ViTDet's MLP tracks a list of layers, then replaces it by a Sequential of the same layers:
    # the trace records the calls of the listed layers, and counts the Sequential as a leaf that
    # holds their weights and has no call of its own.
    "hub_vit_det": ["windowed_transformer_encoder/mlp_block/dense_net",
                    "windowed_transformer_encoder_1/mlp_block/dense_net"],
    "hub_sam": ["windowed_transformer_encoder/mlp_block/dense_net"],
    # Gemma4's decoder block reads its feedforward layers' kernels directly (see UNREACHED): the
    # weights matter, and no call of those layers is in the graph.
    "hub_gemma4": ["decoder_block_0/gating_ffw", "decoder_block_0/gating_ffw_2", "decoder_block_0/ffw_linear"],
}

# Conversions that fail today: {model: (exception type, substring of its message)}. Remove an
# entry when compose learns to convert that model.
REFUSED = {
    # RWKV-7's time-mix loop builds a TensorArray: no pure numeric op to rebuild.
    "hub_rwkv7": (compose.TraceError, "'TensorListReserve' works on strings, files, resources"),
}

# Keras 3 warns at every call that the example's nested decoder drops the encoder's padding
# mask; that is the example's own behaviour, not compose's.
MASK_WARNING = "ignore:Layer '.*' \\(of type Functional\\) was passed an input with a mask"

# The examples' custom layers have no `build()`; Keras warns when it rebuilds them on loading or
# cloning (the loaded twin is then compared with the model, so a wrong rebuild still fails).
UNBUILT_WARNING = "ignore:`build\\(\\)` was called on layer .* does not have a `build\\(\\)` method:UserWarning"

# keras_hub's T5 passes a masked tensor to its own attention, which drops the mask; Keras warns
# while the backbone is built, before compose is involved.
T5_MASK_WARNING = "ignore:(?s).*\\(of type T5MultiHeadAttention\\) was passed an input with a mask:UserWarning"

pytestmark = [pytest.mark.filterwarnings(MASK_WARNING), pytest.mark.filterwarnings(UNBUILT_WARNING),
              pytest.mark.filterwarnings(T5_MASK_WARNING)]


# (name, module holding the definition, builder): the examples, then the keras_hub backbones.
CORPUS = [(name, module, module.build) for name, module in MODELS.items()] + list(hub_backbones())


@pytest.fixture(params=CORPUS, ids=[name for name, _, _ in CORPUS], scope="module")
def built(request):
    name, module, build = request.param
    model, inputs, call_kwargs = build()
    trace = compose.trace(model, *inputs, **call_kwargs)
    return name, module, model, inputs, call_kwargs, trace


def test_trace_reaches_every_layer_without_problems(built):
    name, _, _, _, _, trace = built
    coverage = trace.coverage
    assert coverage.problems == (), coverage
    assert coverage.unreached == UNREACHED.get(name, ()), coverage
    assert coverage.inferred_edges == 0, coverage


#: What each model's trace reached under an earlier compose (tests/golden/make_corpus_counts.py).
BASELINE = json.loads((Path(__file__).parent / "golden" / "corpus_counts.json").read_text())


def test_a_trace_reaches_no_fewer_layers_or_links_than_the_baseline(built):
    # Tracing per container must give the same or more than one strategy for the whole model
    # did: layers reached, and links between layer calls (edge counts differ by strategy, as a
    # graph trace records TensorFlow's ops and a symbolic one Keras's).
    name, _, _, _, _, trace = built
    before = BASELINE["counts"][name]
    assert trace.coverage.layers_reached >= before["layers_reached"], (trace.coverage, before)
    assert len(checks.layer_links(trace)) >= before["layer_links"], before


def test_every_layer_that_matters_reaches_an_output(built):
    name, _, model, inputs, call_kwargs, trace = built
    used = checks.layers_with_gradient(model, inputs, call_kwargs, checks.leaf_layers(trace))
    assert used, "no layer gets a gradient: the check would prove nothing"
    assert checks.dishonest_layers(trace, used) == HIDDEN.get(name, [])


def test_conversion_works_or_is_refused_as_recorded(built, tmp_path):
    name, module, model, inputs, call_kwargs, trace = built
    if name in REFUSED:
        error, message = REFUSED[name]
        with pytest.raises(error, match=message):
            checks.convert_and_compare(module, model, inputs, call_kwargs, trace)
    else:
        checks.convert_and_compare(module, model, inputs, call_kwargs, trace)
