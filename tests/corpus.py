"""Twin architectures for the tracer's tests: each built as a Functional model and as a subclassed
model whose attribute names equal the Functional layers' names, so both traces share paths."""

from __future__ import annotations

import keras
import tensorflow as tf

from keras import layers


def mlp():
    def make():
        return dict(d1=layers.Dense(4, name="d1"), d2=layers.Dense(3, name="d2"))

    x = keras.Input((5,))
    ls = make()
    functional = keras.Model(x, ls["d2"](ls["d1"](x)))

    class MLP(keras.Model):
        def __init__(self):
            super().__init__()
            for k, v in make().items():
                setattr(self, k, v)

        def call(self, x):
            return self.d2(self.d1(x))

    return functional, MLP(), (None, 5)


def residual():
    x = keras.Input((4,))
    d1, d2 = layers.Dense(4, name="d1"), layers.Dense(4, name="d2")
    h = d1(x)
    functional = keras.Model(x, d2(h) + h)

    class Res(keras.Model):
        def __init__(self):
            super().__init__()
            self.d1, self.d2 = layers.Dense(4), layers.Dense(4)

        def call(self, x):
            h = self.d1(x)
            return self.d2(h) + h

    return functional, Res(), (None, 4)


def multi_io():
    a, b = keras.Input((3,)), keras.Input((2,))
    ea, eb, head1, head2 = (layers.Dense(4, name=n) for n in ("ea", "eb", "head1", "head2"))
    merged = layers.Concatenate(name="cat")([ea(a), eb(b)])
    functional = keras.Model([a, b], [head1(merged), head2(merged)])

    class MultiIO(keras.Model):
        def __init__(self):
            super().__init__()
            self.ea, self.eb = layers.Dense(4), layers.Dense(4)
            self.cat = layers.Concatenate()
            self.head1, self.head2 = layers.Dense(4), layers.Dense(4)

        def call(self, inputs):
            a, b = inputs
            merged = self.cat([self.ea(a), self.eb(b)])
            return [self.head1(merged), self.head2(merged)]

    return functional, MultiIO(), [(None, 3), (None, 2)]


def dict_io():
    ins = {"img": keras.Input((3,), name="img"), "meta": keras.Input((2,), name="meta")}
    fi, fm, out = layers.Dense(4, name="fi"), layers.Dense(4, name="fm"), layers.Dense(1, name="score")
    functional = keras.Model(ins, {"score": out(fi(ins["img"]) + fm(ins["meta"]))})

    class DictIO(keras.Model):
        def __init__(self):
            super().__init__()
            self.fi, self.fm, self.score = layers.Dense(4), layers.Dense(4), layers.Dense(1)

        def call(self, inputs):
            return {"score": self.score(self.fi(inputs["img"]) + self.fm(inputs["meta"]))}

    return functional, DictIO(), {"img": (None, 3), "meta": (None, 2)}


def shared():
    x = keras.Input((4,))
    d = layers.Dense(4, name="d")
    functional = keras.Model(x, d(d(x)))

    class Shared(keras.Model):
        def __init__(self):
            super().__init__()
            self.d = layers.Dense(4)

        def call(self, x):
            return self.d(self.d(x))

    return functional, Shared(), (None, 4)


def nested_sequential():
    def seq():
        return keras.Sequential([layers.Dense(4, name="s1"), layers.Dense(4, name="s2")], name="body")

    x = keras.Input((3,))
    body, out = seq(), layers.Dense(2, name="out")
    functional = keras.Model(x, out(body(x)))

    class Nested(keras.Model):
        def __init__(self):
            super().__init__()
            self.body, self.out = seq(), layers.Dense(2)

        def call(self, x):
            return self.out(self.body(x))

    return functional, Nested(), (None, 3)


def nested_functional():
    def inner():
        i = keras.Input((3,))
        return keras.Model(i, layers.Dense(4, name="f2")(layers.Dense(4, name="f1")(i)), name="enc")

    x = keras.Input((3,))
    enc, out = inner(), layers.Dense(2, name="out")
    functional = keras.Model(x, out(enc(x)))

    class Outer(keras.Model):
        def __init__(self):
            super().__init__()
            self.enc, self.out = inner(), layers.Dense(2)

        def call(self, x):
            return self.out(self.enc(x))

    return functional, Outer(), (None, 3)


def tf_ops():
    # The Functional twin uses keras.ops where TF functions do not accept KerasTensors.
    x = keras.Input((4,))
    a, b, c = layers.Dense(4, name="a"), layers.Dense(4, name="b"), layers.Dense(2, name="c")
    h = keras.ops.relu(a(x))
    cat = keras.ops.concatenate([h, b(x)], axis=-1)
    functional = keras.Model(x, c(keras.ops.matmul(keras.ops.reshape(cat, (-1, 8)), keras.ops.ones((8, 8)))))

    class TFOps(keras.Model):
        def __init__(self):
            super().__init__()
            self.a, self.b, self.c = layers.Dense(4), layers.Dense(4), layers.Dense(2)

        def call(self, x):
            h = tf.nn.relu(self.a(x))
            cat = tf.concat([h, self.b(x)], axis=-1)
            return self.c(tf.matmul(tf.reshape(cat, (-1, 8)), tf.ones((8, 8))))

    return functional, TFOps(), (None, 4)


def keras_ops():
    # keras.ops accept KerasTensors, so the subclassed twin traces symbolically: no TF graph needed.
    x = keras.Input((6,))
    a, b = layers.Dense(6, name="a"), layers.Dense(3, name="b")
    gated = keras.ops.multiply(a(x), keras.ops.sigmoid(x))
    functional = keras.Model(x, b(keras.ops.concatenate([gated, keras.ops.abs(x)], axis=-1)))

    class KerasOps(keras.Model):
        def __init__(self):
            super().__init__()
            self.a, self.b = layers.Dense(6), layers.Dense(3)

        def call(self, x):
            gated = keras.ops.multiply(self.a(x), keras.ops.sigmoid(x))
            return self.b(keras.ops.concatenate([gated, keras.ops.abs(x)], axis=-1))

    return functional, KerasOps(), (None, 6)


def loop_static_if():
    x = keras.Input((4,))
    names = ["blocks.0", "blocks.1", "blocks.2"]
    ds = [layers.Dense(4, name=n) for n in names]
    h = x
    for i, d in enumerate(ds):
        h = d(h) if i % 2 == 0 else h + d(h)
    functional = keras.Model(x, h)

    class Loop(keras.Model):
        def __init__(self):
            super().__init__()
            self.blocks = [layers.Dense(4) for _ in range(3)]

        def call(self, x):
            for i, d in enumerate(self.blocks):
                x = d(x) if i % 2 == 0 else x + d(x)
            return x

    return functional, Loop(), (None, 4)


def attention():
    x = keras.Input((5, 8))
    mha, norm = layers.MultiHeadAttention(2, 4, name="mha"), layers.LayerNormalization(name="norm")
    functional = keras.Model(x, norm(x + mha(x, x)))

    class Attn(keras.Model):
        def __init__(self):
            super().__init__()
            self.mha, self.norm = layers.MultiHeadAttention(2, 4), layers.LayerNormalization()

        def call(self, x):
            return self.norm(x + self.mha(x, x))

    return functional, Attn(), (None, 5, 8)


def convnet():
    def make():
        return [layers.Conv2D(4, 3, name="conv"), layers.MaxPooling2D(name="pool"),
                layers.Flatten(name="flat"), layers.Dense(2, name="head")]

    x = keras.Input((8, 8, 1))
    h = x
    for layer in make():
        h = layer(h)
    functional = keras.Model(x, h)

    class Conv(keras.Model):
        def __init__(self):
            super().__init__()
            self.conv, self.pool, self.flat, self.head = make()

        def call(self, x):
            return self.head(self.flat(self.pool(self.conv(x))))

    return functional, Conv(), (None, 8, 8, 1)


def lstm():
    x = keras.Input((6, 3))
    rnn, head = layers.LSTM(4, name="rnn"), layers.Dense(1, name="head")
    functional = keras.Model(x, head(rnn(x)))

    class RNN(keras.Model):
        def __init__(self):
            super().__init__()
            self.rnn, self.head = layers.LSTM(4), layers.Dense(1)

        def call(self, x):
            return self.head(self.rnn(x))

    return functional, RNN(), (None, 6, 3)


TWINS = [mlp, residual, multi_io, dict_io, shared, nested_sequential, nested_functional, tf_ops,
         keras_ops, loop_static_if, attention, convnet, lstm]


def block_in_functional_in_subclass():
    import compose

    class Proj(compose.Block):
        units: int = 4

        def setup(self):
            self.dense = layers.Dense(self.units)

        def call(self, x):
            return x + self.dense(x)

    def encoder():
        i = keras.Input((4,))
        return keras.Model(i, Proj(name="proj")(i), name="enc")

    x = keras.Input((4,))
    enc, head = encoder(), layers.Dense(2, name="head")
    functional = keras.Model(x, head(enc(x)))

    class Outer(keras.Model):
        def __init__(self):
            super().__init__()
            self.enc, self.head = encoder(), layers.Dense(2)

        def call(self, x):
            return self.head(self.enc(x))

    return functional, Outer(), (None, 4)


TWINS.append(block_in_functional_in_subclass)
