"""A pix2pix-style GAN built from Blocks, trained with a custom loop (tf.GradientTape).

The generator is a small U-Net (Down and Up blocks with skip connections), the discriminator a
PatchGAN that judges (input, output) pairs patch by patch. Each block declares its output width
as a named dim bound to its `filters` hyperparameter, so a wrongly wired skip connection is an
error at construction, not a shape error deep inside a training step.

Run: python examples/pix2pix.py
"""

import keras
import numpy as np
import tensorflow as tf

import compose
from compose import Tensor

SIZE = 32  # 32x32 images keep the example fast; pix2pix uses 256x256
L1_WEIGHT = 100.0  # the pix2pix paper's weight of the L1 term in the generator's loss


class Down(compose.Block):
    """Conv (stride 2) -> optional BatchNorm -> LeakyReLU: halves the image, `filters` wide."""

    filters: int = 16
    norm: bool = True

    def setup(self):
        self.conv = keras.layers.Conv2D(self.filters, 4, strides=2, padding="same", use_bias=False, name="conv")
        self.bn = keras.layers.BatchNormalization(name="bn") if self.norm else None
        self.act = keras.layers.LeakyReLU(0.2, name="act")

    def call(self, x: Tensor["batch", "h", "w", "c"], training=False) -> Tensor["batch", None, None, "filters"]:
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x, training=training)
        return self.act(x)


class Up(compose.Block):
    """Transposed conv (stride 2) -> BatchNorm -> ReLU, then the skip connection concatenated.

    In this U-Net mirrored levels have the same width, so the skip must be `filters` wide: a
    skip taken from the wrong level fails that check, naming the block and the argument."""

    filters: int = 16

    def setup(self):
        self.deconv = keras.layers.Conv2DTranspose(self.filters, 4, strides=2, padding="same", use_bias=False, name="deconv")
        self.bn = keras.layers.BatchNormalization(name="bn")

    def call(self, x: Tensor["batch", "h", "w", None], skip: Tensor["batch", "h2", "w2", "filters"], training=False) -> Tensor["batch", "h2", "w2", None]:
        x = keras.ops.relu(self.bn(self.deconv(x), training=training))
        return keras.ops.concatenate([x, skip], axis=-1)


class Generator(keras.Model):
    """U-Net: three Downs, two Ups with skips, a transposed conv back to RGB in [-1, 1]."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.down = [Down(filters=16, norm=False), Down(filters=32), Down(filters=64)]
        self.up = [Up(filters=32), Up(filters=16)]
        self.out = keras.layers.Conv2DTranspose(3, 4, strides=2, padding="same", activation="tanh", name="rgb")

    def call(self, x, training=False):
        skips = []
        for block in self.down:
            x = block(x, training=training)
            skips.append(x)
        for block, skip in zip(self.up, reversed(skips[:-1])):
            x = block(x, skip, training=training)
        return self.out(x)


class Discriminator(keras.Model):
    """PatchGAN: (input, candidate) -> one real/fake logit per image patch."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.down = [Down(filters=16, norm=False), Down(filters=32)]
        self.patch = keras.layers.Conv2D(1, 4, padding="same", name="patch")

    def call(self, inputs, training=False):
        x = keras.ops.concatenate(inputs, axis=-1)  # judge the pair, as a conditional GAN does
        for block in self.down:
            x = block(x, training=training)
        return self.patch(x)


def main() -> None:
    rng = np.random.default_rng(0)
    # Stand-ins for paired images (e.g. label maps and photos), scaled to [-1, 1].
    sources = rng.uniform(-1, 1, size=(8, SIZE, SIZE, 3)).astype("float32")
    targets = np.flip(sources, axis=2).copy()  # a task the generator can learn: mirror the image

    generator, discriminator = Generator(name="generator"), Discriminator(name="discriminator")
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    g_opt = keras.optimizers.Adam(2e-4, beta_1=0.5)
    d_opt = keras.optimizers.Adam(2e-4, beta_1=0.5)

    @tf.function  # the Blocks' spec checks run while this is traced, and cost nothing after
    def train_step(source, target):
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = generator(source, training=True)
            real_logits = discriminator([source, target], training=True)
            fake_logits = discriminator([source, fake], training=True)
            g_loss = bce(tf.ones_like(fake_logits), fake_logits) + L1_WEIGHT * tf.reduce_mean(tf.abs(target - fake))
            d_loss = bce(tf.ones_like(real_logits), real_logits) + bce(tf.zeros_like(fake_logits), fake_logits)
        g_opt.apply_gradients(zip(g_tape.gradient(g_loss, generator.trainable_variables), generator.trainable_variables))
        d_opt.apply_gradients(zip(d_tape.gradient(d_loss, discriminator.trainable_variables), discriminator.trainable_variables))
        return g_loss, d_loss

    for step in range(3):
        batch = slice(4 * (step % 2), 4 * (step % 2) + 4)
        g_loss, d_loss = train_step(sources[batch], targets[batch])
        print(f"step {step}: generator loss {float(g_loss):.3f}, discriminator loss {float(d_loss):.3f}")

    # Both halves are subclassed models; the trace recovers the U-Net's skip connections.
    compose.summary(generator, (None, SIZE, SIZE, 3), depth=1)
    trace = compose.trace(discriminator, [(None, SIZE, SIZE, 3), (None, SIZE, SIZE, 3)])
    print("discriminator:", trace.coverage)

    # A skip connection from the wrong level is caught when the graph is built.
    try:
        Up(filters=16, name="up_1")(keras.Input((4, 4, 64)), keras.Input((8, 8, 32), name="down_1_out"))
    except compose.SpecError as err:
        print("caught at build time:", err)


if __name__ == "__main__":
    main()
