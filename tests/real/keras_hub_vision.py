"""keras_hub vision backbones beyond keras_hub_backbones.py (Functional models): image
classifiers' feature extractors, vision transformers, and the segmentation, detection and depth
backbones built on them, each built offline from a tiny config: random weights, no preset, no
download.

Source: keras-team/keras-hub (https://github.com/keras-team/keras-hub), keras_hub 0.32.0 from
PyPI, the Backbone classes of `keras_hub.models`. The Keras authors. License: Apache-2.0.
Changed: nothing in the classes; the configs are shrunk to 1-2 blocks of width 8-16 and images
of 16-32 pixels (the ResNet encoders keep 64 filters: the class requires them after a 64-filter
stem), in the spirit of keras-hub's own `*_backbone_test.py` `init_kwargs` (the wheel ships no
tests).
"""

import keras_hub

from .keras_hub_backbones import _built, _image, fresh_names

SOURCE = "https://github.com/keras-team/keras-hub"
FEATURES = ("keras_hub", "functional")

hub = keras_hub.models


def _resnet(stages: int = 2, size: int | None = 32):
    """A ResNet feature pyramid encoder (P2, P3, ...) of `stages` one-block stages."""
    return hub.ResNetBackbone(input_conv_filters=[64], input_conv_kernel_sizes=[7],
                              stackwise_num_filters=[64] * stages, stackwise_num_blocks=[1] * stages,
                              stackwise_num_strides=[1] + [2] * (stages - 1), block_type="basic_block",
                              image_shape=(size, size, 3))


def _mit(size: int = 32):
    return hub.MiTBackbone(layerwise_depths=[1, 1], num_layers=2, hidden_dims=[8, 16], layerwise_num_heads=[1, 2],
                           layerwise_sr_ratios=[4, 2], max_drop_path_rate=0.0, layerwise_patch_sizes=[7, 3],
                           layerwise_strides=[4, 2], image_shape=(size, size, 3))


def _dinov2(layers: int = 1, size: int = 16):
    return hub.DINOV2Backbone(patch_size=4, num_layers=layers, hidden_dim=8, num_heads=2, intermediate_dim=16,
                              image_shape=(size, size, 3), position_embedding_shape=(size, size, 3))


def cspnet():
    return _built(hub.CSPNetBackbone(stem_filters=8, stem_kernel_size=3, stem_strides=1, stackwise_depth=[1, 1],
                                     stackwise_strides=2, stackwise_num_filters=[8, 16], block_type="dark_block",
                                     stage_type="csp", down_growth=True, bottle_ratio=(0.5, 1.0),
                                     block_ratio=(1.0, 0.5), expand_ratio=(2.0, 1.0), stem_padding="same",
                                     image_shape=(16, 16, 3)), _image())


def densenet():
    return _built(hub.DenseNetBackbone(stackwise_num_repeats=[1, 1], growth_rate=4, image_shape=(32, 32, 3)),
                  _image(32))


def efficientnet():
    return _built(hub.EfficientNetBackbone(stackwise_kernel_sizes=[3, 3], stackwise_num_repeats=[1, 1],
                                           stackwise_input_filters=[8, 8], stackwise_output_filters=[8, 16],
                                           stackwise_expansion_ratios=[1, 2],
                                           stackwise_squeeze_and_excite_ratios=[0.0, 0.25],
                                           stackwise_strides=[1, 2], stackwise_block_types=["fused", "unfused"],
                                           stackwise_force_input_filters=[0, 0],
                                           stackwise_nores_option=[False, False],
                                           stackwise_width_coefficients=[1.0, 1.0],
                                           stackwise_depth_coefficients=[1.0, 1.0], num_features=16,
                                           input_shape=(16, 16, 3)), _image())


def hgnetv2():
    return _built(hub.HGNetV2Backbone(depths=[1], embedding_size=8, hidden_sizes=[16], stem_channels=[3, 8, 8],
                                      hidden_act="relu", use_learnable_affine_block=False,
                                      stackwise_stage_filters=[[8, 8, 16, 1, 1, 3]], apply_downsample=[False],
                                      use_lightweight_conv_block=[False], image_shape=(32, 32, 3)), _image(32))


def mobilenet():
    return _built(hub.MobileNetBackbone(stackwise_expansion=[[16]], stackwise_num_blocks=[1],
                                        stackwise_num_filters=[[8]], stackwise_kernel_size=[[3]],
                                        stackwise_num_strides=[[2]], stackwise_se_ratio=[[0.25]],
                                        stackwise_activation=[["relu"], ["hard_swish"]], stackwise_padding=[[1]],
                                        output_num_filters=16, input_num_filters=8, depthwise_filters=8,
                                        depthwise_stride=2, depthwise_residual=False, last_layer_filter=16,
                                        squeeze_and_excite=0.5, image_shape=(32, 32, 3)), _image(32))


def mobilenet_v5():
    return _built(hub.MobileNetV5Backbone(stackwise_block_types=[["er"], ["uir"]], stackwise_num_blocks=[1, 1],
                                          stackwise_num_filters=[[8], [16]], stackwise_strides=[[2], [2]],
                                          stackwise_act_layers=[["relu"], ["relu"]],
                                          stackwise_exp_ratios=[[2.0], [2.0]], stackwise_se_ratios=[[0.0], [0.0]],
                                          stackwise_dw_kernel_sizes=[[0], [3]],
                                          stackwise_dw_start_kernel_sizes=[[0], [0]],
                                          stackwise_dw_end_kernel_sizes=[[0], [0]],
                                          stackwise_exp_kernel_sizes=[[3], [0]],
                                          stackwise_pw_kernel_sizes=[[1], [0]], stackwise_num_heads=[[0], [0]],
                                          stackwise_key_dims=[[0], [0]], stackwise_value_dims=[[0], [0]],
                                          stackwise_kv_strides=[[0], [0]], stackwise_use_cpe=[[False], [False]],
                                          image_shape=(32, 32, 3), stem_size=8, use_msfa=False), _image(32))


def xception():
    return _built(hub.XceptionBackbone(stackwise_conv_filters=[[8, 8], [16, 16]], stackwise_pooling=[False, True],
                                       image_shape=(32, 32, 3)), _image(32))


def mit():
    return _built(_mit(), _image(32))


def deit():
    return _built(hub.DeiTBackbone(image_shape=(16, 16, 3), patch_size=8, num_layers=1, num_heads=2, hidden_dim=8,
                                   intermediate_dim=16), _image())


def dinov2():
    return _built(_dinov2(), {"images": _image()})


def dinov3():
    return _built(hub.DINOV3Backbone(patch_size=4, num_layers=1, hidden_dim=8, num_heads=2, intermediate_dim=16,
                                     num_register_tokens=1, image_shape=(16, 16, 3)), {"pixel_values": _image()})


def swin_transformer():
    return _built(hub.SwinTransformerBackbone(image_shape=(16, 16, 3), embed_dim=8, depths=(1, 1), num_heads=(1, 2),
                                              window_size=2, drop_path=0.0), _image())


def vit_det():
    fresh_names()
    return _built(hub.ViTDetBackbone(hidden_size=8, num_layers=2, intermediate_dim=16, num_heads=2,
                                     global_attention_layer_indices=[1], image_shape=(16, 16, 3), patch_size=4,
                                     num_output_channels=8, window_size=2), _image())


def video_prism():
    frames = _image().reshape(2, 1, 16, 16, 3).repeat(2, axis=1)
    return _built(hub.VideoPrismBackbone(num_frames=2, patch_size=8, hidden_dim=8, intermediate_dim=16, num_heads=2,
                                         num_spatial_layers=1, num_temporal_layers=1, num_auxiliary_layers=1,
                                         image_shape=(16, 16, 3)), frames)


def segformer():
    return _built(hub.SegFormerBackbone(image_encoder=_mit(), projection_filters=8), _image(32))


def deeplab_v3():
    return _built(hub.DeepLabV3Backbone(image_encoder=_resnet(2), spatial_pyramid_pooling_key="P3",
                                        low_level_feature_key="P2", upsampling_size=2, dilation_rates=[2],
                                        projection_filters=8, image_shape=(32, 32, 3)), _image(32))


def retinanet():
    return _built(hub.RetinaNetBackbone(image_encoder=_resnet(4), min_level=3, max_level=5, use_p5=True,
                                        image_shape=(32, 32, 3)), _image(32))


def depth_anything():
    return _built(hub.DepthAnythingBackbone(image_encoder=_dinov2(2), reassemble_factors=[2, 1],
                                            neck_hidden_dims=[8, 16], fusion_hidden_dim=8, head_hidden_dim=8,
                                            head_in_index=-1, feature_keys=["stage1", "stage2"]), _image())


BACKBONES = {
    "hub_cspnet": cspnet,
    "hub_densenet": densenet,
    "hub_efficientnet": efficientnet,
    "hub_hgnetv2": hgnetv2,
    "hub_mobilenet": mobilenet,
    "hub_mobilenet_v5": mobilenet_v5,
    "hub_xception": xception,
    "hub_mit": mit,
    "hub_deit": deit,
    "hub_dinov2": dinov2,
    "hub_dinov3": dinov3,
    "hub_swin_transformer": swin_transformer,
    "hub_vit_det": vit_det,
    "hub_video_prism": video_prism,
    "hub_segformer": segformer,
    "hub_deeplab_v3": deeplab_v3,
    "hub_retinanet": retinanet,
    "hub_depth_anything": depth_anything,
}
