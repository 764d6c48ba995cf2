"""A corpus of real model definitions, adapted from public example code (each module names its
source and license): `MODELS` maps a name to its module, in a fixed order. Each module has
`build() -> (model, inputs, call_kwargs)`, `SOURCE` and `FEATURES`.

The keras_hub backbones live apart (importing keras_hub is slow): `HUB_MODULES` names the modules,
each with `SOURCE`, `FEATURES` and `BACKBONES` (a name -> builder dict); `hub_backbones()` imports
them and yields `(name, module, build)` in a fixed order."""

import importlib

from . import (
    convmixer,
    ctc_asr,
    dcgan,
    deit_vit,
    fnet,
    gat,
    gnn_citations,
    gru_text_generation,
    lstm_seq2seq,
    miniature_gpt,
    mlp_mixer,
    ner_transformer,
    nmt_transformer,
    perceiver,
    pixelcnn,
    real_nvp,
    resnet_applications,
    switch_transformer,
    text_transformer,
    tf_cond_gate,
    transformer_asr,
    vae,
    vq_vae,
)

MODELS = {
    "text_transformer": text_transformer,
    "ner_transformer": ner_transformer,
    "miniature_gpt": miniature_gpt,
    "nmt_transformer": nmt_transformer,
    "switch_transformer": switch_transformer,
    "deit_vit": deit_vit,
    "perceiver": perceiver,
    "mlp_mixer": mlp_mixer,
    "fnet": fnet,
    "convmixer": convmixer,
    "resnet_applications": resnet_applications,
    "gnn_citations": gnn_citations,
    "gat": gat,
    "real_nvp": real_nvp,
    "vae": vae,
    "vq_vae": vq_vae,
    "pixelcnn": pixelcnn,
    "dcgan": dcgan,
    "gru_text_generation": gru_text_generation,
    "lstm_seq2seq": lstm_seq2seq,
    "transformer_asr": transformer_asr,
    "ctc_asr": ctc_asr,
    "tf_cond_gate": tf_cond_gate,
}

HUB_MODULES = ("keras_hub_backbones", "keras_hub_text", "keras_hub_vision", "keras_hub_multimodal")


def hub_backbones():
    """(name, module, build) of every keras_hub backbone of the corpus, module by module."""
    for module_name in HUB_MODULES:
        module = importlib.import_module(f"{__name__}.{module_name}")
        for name, build in module.BACKBONES.items():
            yield name, module, build
