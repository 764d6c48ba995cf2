"""A recorded ``tf.cond`` in a Functional twin: one layer holding each branch as a sub-model.

The graph strategy records both branches of a ``tf.cond`` (a Python ``if`` on a tensor, which
AutoGraph converts): the layer calls inside each and the ops between them. The replay makes
each branch a Functional model on the branch's inputs (the outer tensors it uses), built from
the model's own layer objects, and `Cond` chooses between them with ``keras.ops.cond``: only
the branch the predicate picks runs, as in the model. Its config holds both branch models'
configs, so it saves and loads as plain data (Keras's safe mode), and the branch models are
tracked sublayers, so their weights are the model's: training the twin trains the model.
"""

from __future__ import annotations

from typing import Any

import keras


@keras.saving.register_keras_serializable(package="compose")
class Cond(keras.layers.Layer):
    """``keras.ops.cond(pred, then_branch, else_branch)`` on the layer's inputs.

    Called on ``[pred, *inputs]``: ``pred`` a scalar boolean, ``inputs`` what both branch
    models take (as a list). Returns the chosen branch's outputs, as a list.

    Args:
        then_branch: a Functional model taking a list of ``len(inputs)`` tensors and returning
            a list; run where ``pred`` is true.
        else_branch: the same for false; its outputs match ``then_branch``'s in number, dtype
            and rank.
        **kwargs: Keras's layer keywords (``name``).
    """

    def __init__(self, then_branch: keras.Model, else_branch: keras.Model, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.then_branch = then_branch
        self.else_branch = else_branch
        self.supports_masking = True  # a cond's result is a new tensor: no mask, as in TensorFlow
        self.built = True

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        return None

    def compute_output_spec(self, inputs: list) -> list[keras.KerasTensor]:
        _, *data = inputs
        then = keras.tree.flatten(self.then_branch.compute_output_spec(data))
        other = keras.tree.flatten(self.else_branch.compute_output_spec(data))
        # Where the branches' shapes differ, the result's dim is unknown, as tf.cond makes it.
        return [
            keras.KerasTensor(tuple(a if a == b else None for a, b in zip(t.shape, e.shape)), dtype=t.dtype)
            for t, e in zip(then, other)
        ]

    def call(self, inputs: list) -> list[Any]:
        pred, *data = inputs
        # A Functional model, and tf.cond, hand back a list of one as its tensor: flattened, the
        # results are lists again.
        flat = keras.tree.flatten
        return flat(keras.ops.cond(pred, lambda: flat(self.then_branch(data)), lambda: flat(self.else_branch(data))))

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "then_branch": keras.saving.serialize_keras_object(self.then_branch),
            "else_branch": keras.saving.serialize_keras_object(self.else_branch),
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Cond:
        config = dict(config)
        for key in ("then_branch", "else_branch"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)
