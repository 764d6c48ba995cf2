"""keras_hub multimodal, audio and generative backbones (Functional models with dict inputs):
image-text encoders, vision-language models, speech-to-text, text recognition, segment-anything
and diffusion transformers, each built offline from a tiny config: random weights, no preset, no
download.

Source: keras-team/keras-hub (https://github.com/keras-team/keras-hub), keras_hub 0.32.0 from
PyPI, the Backbone classes of `keras_hub.models` and the sub-models they are built from (some
only in `keras_hub.src`). The Keras authors. License: Apache-2.0. Changed: nothing in the
classes; the configs are shrunk to 1-2 layers of width 8-16 and images of 16-32 pixels, in the
spirit of keras-hub's own `*_backbone_test.py` `init_kwargs` (the wheel ships no tests).
"""

import keras_hub
import numpy as np
from keras_hub.src.models.blip2.blip2_custom_opt import BLIP2CustomOPT
from keras_hub.src.models.blip2.blip2_qformer import BLIP2QFormer
from keras_hub.src.models.blip2.blip2_vision_encoder import BLIP2VisionEncoder
from keras_hub.src.models.clip.clip_text_encoder import CLIPTextEncoder
from keras_hub.src.models.clip.clip_vision_encoder import CLIPVisionEncoder
from keras_hub.src.models.metaclip_2.metaclip_2_text_encoder import MetaCLIP2TextEncoder
from keras_hub.src.models.metaclip_2.metaclip_2_vision_encoder import MetaCLIP2VisionEncoder
from keras_hub.src.models.sam.sam_mask_decoder import SAMMaskDecoder
from keras_hub.src.models.sam.sam_prompt_encoder import SAMPromptEncoder
from keras_hub.src.models.siglip.siglip_text_encoder import SigLIPTextEncoder
from keras_hub.src.models.siglip.siglip_vision_encoder import SigLIPVisionEncoder
from keras_hub.src.models.vae.vae_backbone import VAEBackbone

from .keras_hub_backbones import SEQUENCE, VOCAB, _built, _image, _tokens, fresh_names

SOURCE = "https://github.com/keras-team/keras-hub"
FEATURES = ("keras_hub", "functional", "dict_input")

hub = keras_hub.models


def _image_text(mask: bool = False) -> dict:
    data = {"images": _image(), "token_ids": _tokens()["token_ids"]}
    if mask:
        data["padding_mask"] = np.ones((2, SEQUENCE), dtype="int32")
    return data


def clip():
    return _built(hub.CLIPBackbone(CLIPVisionEncoder(8, 8, 1, 2, 16, image_shape=(16, 16, 3)),
                                   CLIPTextEncoder(VOCAB, 8, 8, 1, 2, 16, max_sequence_length=SEQUENCE),
                                   projection_dim=8), _image_text())


def metaclip_2():
    return _built(hub.MetaCLIP2Backbone(MetaCLIP2VisionEncoder(8, 8, 1, 2, 16, image_shape=(16, 16, 3)),
                                        MetaCLIP2TextEncoder(VOCAB, 8, 8, 1, 2, 16, max_sequence_length=SEQUENCE),
                                        projection_dim=8), _image_text())


def siglip():
    return _built(hub.SigLIPBackbone(SigLIPVisionEncoder(8, 8, 1, 2, 16, image_shape=(16, 16, 3)),
                                     SigLIPTextEncoder(VOCAB, 8, 8, 1, 2, 16, max_sequence_length=SEQUENCE)),
                  _image_text())


def blip2():
    fresh_names()
    vision = BLIP2VisionEncoder(image_size=16, patch_size=8, num_layers=1, num_heads=2, hidden_dim=8,
                                intermediate_dim=16, use_patch_bias=True, use_class_token=True, use_mha_bias=True,
                                use_mlp_bias=True, dropout_rate=0.0, layer_norm_epsilon=1e-6, initializer_range=0.02)
    qformer = BLIP2QFormer(num_query_tokens=2, num_layers=1, num_heads=2, hidden_dim=8, intermediate_dim=16,
                           vision_dim=8, cross_attention_frequency=1, dropout=0.0, layer_norm_epsilon=1e-6)
    language = BLIP2CustomOPT(vocabulary_size=VOCAB, num_layers=1, num_heads=2, hidden_dim=8, intermediate_dim=16,
                              num_query_tokens=2, dropout=0.0, max_sequence_length=SEQUENCE + 2,
                              qformer_hidden_dim=8)
    return _built(hub.BLIP2Backbone(vision, qformer, language), _image_text(mask=True))


def pali_gemma():
    data = _image_text(mask=True)
    data["response_mask"] = np.zeros((2, SEQUENCE), dtype="int32")
    return _built(hub.PaliGemmaBackbone(vocabulary_size=VOCAB, image_size=16, num_layers=1, num_query_heads=2,
                                        num_key_value_heads=1, hidden_dim=8, intermediate_dim=16, head_dim=4,
                                        vit_patch_size=8, vit_num_heads=2, vit_hidden_dim=8, vit_num_layers=1,
                                        vit_intermediate_dim=16), data)


def parseq():
    encoder = hub.ViTBackbone(image_shape=(16, 32, 3), patch_size=(8, 8), num_layers=1, num_heads=2, hidden_dim=8,
                              mlp_dim=16, use_class_token=False)
    data = {"images": np.random.default_rng(0).uniform(0, 1, (2, 16, 32, 3)).astype("float32"),
            "token_ids": _tokens()["token_ids"], "padding_mask": np.ones((2, SEQUENCE), dtype="int32")}
    return _built(hub.PARSeqBackbone(encoder, vocabulary_size=VOCAB, max_label_length=SEQUENCE - 1,
                                     decoder_hidden_dim=8, num_decoder_layers=1, num_decoder_heads=2,
                                     decoder_mlp_dim=16, dropout_rate=0.0, attention_dropout=0.0), data)


def whisper():
    data = {"encoder_features": np.random.default_rng(0).standard_normal((2, SEQUENCE, 8)).astype("float32"),
            "decoder_token_ids": _tokens()["token_ids"], "decoder_padding_mask": np.ones((2, SEQUENCE), "int32")}
    return _built(hub.WhisperBackbone(vocabulary_size=VOCAB, num_layers=1, num_heads=2, hidden_dim=8,
                                      intermediate_dim=16, num_mels=8, max_encoder_sequence_length=SEQUENCE,
                                      max_decoder_sequence_length=SEQUENCE), data)


def moonshine():
    samples = 1600  # the encoder's stem convolutions stride 64, 3 and 2
    rng = np.random.default_rng(0)
    data = {"encoder_input_values": rng.uniform(-1, 1, (2, samples, 1)).astype("float32"),
            "encoder_padding_mask": np.ones((2, samples), dtype="bool"),
            "decoder_token_ids": _tokens()["token_ids"],
            "decoder_padding_mask": np.ones((2, SEQUENCE), dtype="bool")}
    return _built(hub.MoonshineBackbone(vocabulary_size=VOCAB, filter_dim=8, encoder_num_layers=1,
                                        decoder_num_layers=1, hidden_dim=8, intermediate_dim=16, encoder_num_heads=2,
                                        decoder_num_heads=2, feedforward_expansion_factor=2,
                                        max_position_embeddings=64, partial_rotary_factor=0.5), data)


def sam():
    fresh_names()
    encoder = hub.ViTDetBackbone(hidden_size=8, num_layers=1, intermediate_dim=16, num_heads=2,
                                 global_attention_layer_indices=[0], patch_size=4, num_output_channels=8,
                                 window_size=2, image_shape=(16, 16, 3))
    prompt = SAMPromptEncoder(hidden_size=8, image_embedding_size=(4, 4), input_image_size=(16, 16),
                              mask_in_channels=8)
    decoder = SAMMaskDecoder(num_layers=1, hidden_size=8, intermediate_dim=16, num_heads=2, embedding_dim=8,
                             num_multimask_outputs=3, iou_head_depth=2, iou_head_hidden_dim=8)
    data = {"images": _image(), "points": np.ones((2, 1, 2), "float32"), "labels": np.ones((2, 1), "float32"),
            "boxes": np.ones((2, 1, 2, 2), "float32"), "masks": np.zeros((2, 0, 16, 16, 1), "float32")}
    return _built(hub.SAMBackbone(encoder, prompt, decoder), data)


def flux():
    fresh_names()
    rng = np.random.default_rng(0)
    data = {"image": rng.standard_normal((1, 4, 8)).astype("float32"), "image_ids": np.ones((1, 4, 3), "float32"),
            "text": rng.standard_normal((1, 4, 8)).astype("float32"), "text_ids": np.ones((1, 4, 3), "float32"),
            "y": rng.standard_normal((1, 8)).astype("float32"), "timesteps": np.ones((1,), "float32"),
            "guidance": np.ones((1,), "float32")}
    return _built(hub.FluxBackbone(input_channels=8, hidden_size=16, mlp_ratio=2.0, num_heads=2, depth=1,
                                   depth_single_blocks=1, axes_dim=[2, 2, 4], theta=10_000, use_bias=True,
                                   guidance_embed=True, image_shape=(4, 8), text_shape=(4, 8), image_ids_shape=(4, 3),
                                   text_ids_shape=(4, 3), y_shape=(8,)), data)


def stable_diffusion_3():
    vae = VAEBackbone([32, 32], [1, 1], [32, 32], [1, 1], sampler_method="mode")  # 32 groups per norm
    clip_l = CLIPTextEncoder(VOCAB, 8, 8, 1, 2, 16, "quick_gelu", 0, max_sequence_length=SEQUENCE, name="clip_l")
    clip_g = CLIPTextEncoder(VOCAB, 8, 8, 1, 2, 16, "gelu", 0, max_sequence_length=SEQUENCE, name="clip_g")
    backbone = hub.StableDiffusion3Backbone(mmdit_patch_size=2, mmdit_hidden_dim=8, mmdit_num_layers=1,
                                            mmdit_num_heads=2, mmdit_position_size=8, mmdit_qk_norm=None,
                                            mmdit_dual_attention_indices=None, vae=vae, clip_l=clip_l, clip_g=clip_g,
                                            image_shape=(16, 16, 3))
    tokens = _tokens()["token_ids"]
    rng = np.random.default_rng(0)
    data = {"images": _image(), "latents": rng.standard_normal((2, 2, 2, 16)).astype("float32"),
            "clip_l_token_ids": tokens, "clip_l_negative_token_ids": tokens, "clip_g_token_ids": tokens,
            "clip_g_negative_token_ids": tokens, "num_steps": np.full((2,), 4, "int32"),
            "guidance_scale": np.full((2,), 2.0, "float32")}
    return _built(backbone, data)


BACKBONES = {
    "hub_clip": clip,
    "hub_metaclip_2": metaclip_2,
    "hub_siglip": siglip,
    "hub_blip2": blip2,
    "hub_pali_gemma": pali_gemma,
    "hub_parseq": parseq,
    "hub_whisper": whisper,
    "hub_moonshine": moonshine,
    "hub_sam": sam,
    "hub_flux": flux,
    "hub_stable_diffusion_3": stable_diffusion_3,
}
