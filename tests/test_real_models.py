"""compose on real model definitions (tests/real/: keras.io examples, TensorFlow tutorials,
keras.applications, keras_hub backbones): what a user would check after `pip install`.

For every model: the trace finishes with no problem and reaches every leaf layer (or exactly the
ones listed in UNREACHED, with the reason); every layer that influences the output has a path to
an output in the graph (the gradient check); and either the conversion works (twin equals the
model, survives a safe-mode `.keras` round trip and `clone_model`, and its intermediates equal
the model's) or it fails today exactly as REFUSED says. A fix in compose shows as a REFUSED
entry to remove.
"""

import keras
import pytest

import compose
from real import MODELS, checks, hub_backbones

# Leaf layers a trace cannot reach, and why. Anything else unreached is a failure.
UNREACHED = {
    # ViTDistilled.__init__ replaces ViTClassifier's `head` by a new Dense; Keras 3 keeps
    # tracking the replaced one, which no call uses.
    "deit_vit": ("classification_head",),
    # Gemma's attention calls its dropout layer only when `dropout > 0`; the config has 0.
    "hub_gemma": ("decoder_block_0/attention/dropout_layer",),
}

# Conversions that fail today: {model: (exception type, substring of its message)}. Remove an
# entry when compose learns to convert that model.
REFUSED = {
    # A Keras tensor made by a Functional model built inside the model's `call` (the example
    # builds a fresh `keras.Model` on every call): no recorded call produced it.
    "perceiver": (compose.TraceError, "takes a tensor from 'functional.*', which was not recorded"),
    # The twin converts and computes the same outputs, but Keras cannot load it again: a nested
    # Functional kept whole that holds the example's own layers does not deserialize.
    "transformer_asr": (TypeError, "could not be deserialized properly"),
    "hub_llama": (TypeError, "could not be deserialized properly"),
    # Keras reloads a layer of the twin with the unknown dim a TFOp's output spec gave it.
    "hub_deberta_v3": (ValueError, "Shapes used to initialize variables must be fully-defined"),
    "hub_mistral": (ValueError, "Shapes used to initialize variables must be fully-defined"),
    # keras_hub's RMSNormalization has no get_config: no Functional model holding it saves.
    "hub_gemma": (NotImplementedError, "RMSNormalization was created by passing"),
}

# Keras 3 warns at every call that the example's nested decoder drops the encoder's padding
# mask; that is the example's own behaviour, not compose's.
MASK_WARNING = "ignore:Layer '.*' \\(of type Functional\\) was passed an input with a mask"

# The examples' custom layers have no `build()`; Keras warns when it rebuilds them on loading or
# cloning (the loaded twin is then compared with the model, so a wrong rebuild still fails).
UNBUILT_WARNING = "ignore:`build\\(\\)` was called on layer .* does not have a `build\\(\\)` method:UserWarning"

pytestmark = [pytest.mark.filterwarnings(MASK_WARNING), pytest.mark.filterwarnings(UNBUILT_WARNING)]


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


def test_every_layer_that_matters_reaches_an_output(built):
    _, _, model, inputs, call_kwargs, trace = built
    used = checks.layers_with_gradient(model, inputs, call_kwargs, checks.leaf_layers(trace))
    assert used, "no layer gets a gradient: the check would prove nothing"
    assert checks.dishonest_layers(trace, used) == []


def test_conversion_works_or_is_refused_as_recorded(built, tmp_path):
    name, module, model, inputs, call_kwargs, trace = built
    if name in REFUSED:
        error, message = REFUSED[name]
        with pytest.raises(error, match=message):
            checks.convert_and_compare(module, model, inputs, call_kwargs, trace)
    else:
        checks.convert_and_compare(module, model, inputs, call_kwargs, trace)
