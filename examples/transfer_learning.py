"""Transfer learning with a subclassed model, both ways, through compose.

1. A keras.applications network held inside a subclassed model: build an extractor for one of
   its inner blocks, as `keras.Model(base.input, base.get_layer(name).output)` does for a
   Functional network.
2. The reverse: convert the subclassed model to a Functional one, cut it at an inner layer and
   start a new model from there, which trains.

Run: python examples/transfer_learning.py
"""

import keras
import numpy as np
import tensorflow as tf

import compose

IMAGE = (32, 32, 3)  # tiny images keep the example fast; weights=None downloads nothing


class Neck(keras.layers.Layer):
    """The user's own layer with sublayers: opened by the tracer, its layers reachable by path."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.mix = keras.layers.Conv2D(16, 1, name="neck_mix")
        self.norm = keras.layers.BatchNormalization(name="neck_norm")

    def call(self, x):
        # TensorFlow functions between layers: the tracer records them and to_functional keeps
        # them, as small layers that save as plain data.
        return tf.nn.relu6(self.norm(self.mix(x)))


class Classifier(keras.Model):
    """A backbone from keras.applications inside the user's own subclassed model."""

    def __init__(self, classes: int = 3, **kwargs):
        super().__init__(**kwargs)
        self.backbone = keras.applications.MobileNetV2(
            input_shape=IMAGE, alpha=0.35, include_top=False, weights=None
        )
        self.neck = Neck()
        self.pool = keras.layers.GlobalAveragePooling2D(name="pool")
        self.head = keras.layers.Dense(classes, name="head")

    def call(self, images):
        return self.head(self.pool(self.neck(self.backbone(images))))


def main() -> None:
    model = Classifier()
    images = np.random.default_rng(0).uniform(size=(4, *IMAGE)).astype("float32")
    model(images)  # built (trained, in real life)

    # 1. An extractor for an inner block. Paths are those of compose.trace: the attribute
    #    holding the backbone, then the Keras layer name inside it.
    inputs = keras.Input(IMAGE)
    path = "backbone/block_5_add"
    extractor = keras.Model(inputs, compose.intermediates(model, inputs, paths=path)[path])
    # The same values, straight from a run of the model on concrete data:
    direct = compose.intermediates(model, images, paths=path)[path]
    print("extractor output", extractor(images).shape,
          "max abs diff", float(np.abs(extractor(images) - direct).max()))

    # 2. The reverse: a Functional twin holding the very same layers. The Neck is opened (its
    #    layers sit in the twin under their Keras names); the backbone, a Functional model
    #    already, stays one layer.
    twin = compose.to_functional(model)
    print("twin matches the model:", float(np.abs(twin(images) - model(images)).max()))
    twin.summary(line_length=90)
    # Cut inside the user's Neck, after its normalization, and start a new model from there.
    # (`twin.get_layer("neck_norm").output` would be the layer's first call ever, the one Keras
    # made to build the subclassed model; intermediates gives the call inside the twin.)
    cut = compose.intermediates(twin, twin.input, paths="neck_norm")["neck_norm"]
    hidden = keras.layers.GlobalAveragePooling2D()(cut)
    new_model = keras.Model(twin.input, keras.layers.Dense(2, activation="softmax")(hidden))
    model.backbone.trainable = False  # keep the pretrained features; train the rest
    new_model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    labels = np.array([0, 1, 0, 1])
    history = new_model.fit(images, labels, epochs=1, batch_size=2, verbose=0)
    print("new model trained one epoch, loss", round(history.history["loss"][0], 4))


if __name__ == "__main__":
    main()
