"""Recorded control flow in a Functional twin: layers holding Functional sub-models.

The graph strategy records a ``tf.cond`` (a Python ``if`` on a tensor, which AutoGraph converts)
with both branches, and a ``tf.while_loop`` (a Python ``while``, or ``for`` over ``tf.range``)
with its condition and body: the layer calls inside each and the ops between them. The replay
makes each branch, condition and body a Functional model on its inputs, built from the model's
own layer objects, and a layer here runs them with Keras's control flow: `Cond` with
``keras.ops.cond`` (only the branch the predicate picks runs, as in the model), `While` with
``keras.ops.while_loop``. Their configs hold the sub-models' configs, so they save and load as
plain data (Keras's safe mode), and the sub-models are tracked sublayers, so their weights are
the model's: training the twin trains the model.
"""

from __future__ import annotations

from typing import Any, ClassVar

import keras


class _HoldsModels(keras.layers.Layer):
    """A layer running the Functional models it holds (the attributes named in `models`), which
    its config holds as their configs."""

    models: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True  # a result of control flow is a new tensor: no mask, as in TensorFlow
        self.built = True

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        return None

    def get_config(self) -> dict[str, Any]:
        models = {key: keras.saving.serialize_keras_object(getattr(self, key)) for key in self.models}
        return {**super().get_config(), **models}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Any:
        config = dict(config)
        for key in cls.models:
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)


@keras.saving.register_keras_serializable(package="compose")
class Cond(_HoldsModels):
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

    models = ("then_branch", "else_branch")

    def __init__(self, then_branch: keras.Model, else_branch: keras.Model, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.then_branch = then_branch
        self.else_branch = else_branch

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


@keras.saving.register_keras_serializable(package="compose")
class While(_HoldsModels):
    """``keras.ops.while_loop(cond, body, ...)`` over the layer's inputs, the loop's variables.

    Called on a list of tensors: those at the positions ``carried`` change from one iteration
    to the next, the others stay as given (what the body reads from outside the loop). Returns
    the list after the last iteration: the carried ones' final values, the others unchanged.

    Args:
        cond: a Functional model taking the whole list and returning a list of one scalar
            boolean: whether the body runs again.
        body: a Functional model taking the whole list and returning the next values of the
            carried tensors, in order, each of the dtype and shape it came with.
        carried: the positions of the tensors the body changes.
        **kwargs: Keras's layer keywords (``name``).
    """

    models = ("cond", "body")

    def __init__(self, cond: keras.Model, body: keras.Model, carried: list[int], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cond = cond
        self.body = body
        self.carried = [int(position) for position in carried]

    def compute_output_spec(self, inputs: list) -> list[keras.KerasTensor]:
        # A carried tensor keeps its shape from one iteration to the next (the replay refuses a
        # loop whose variables change shape): the result is shaped as the inputs.
        return [keras.KerasTensor(t.shape, dtype=t.dtype) for t in inputs]

    def call(self, inputs: list) -> list[Any]:
        inputs = list(inputs)

        def every(carried: Any) -> list[Any]:
            values = list(inputs)
            for position, value in zip(self.carried, carried):
                values[position] = value
            return values

        flat = keras.tree.flatten
        final = keras.ops.while_loop(
            lambda *carried: flat(self.cond(every(carried)))[0],
            lambda *carried: tuple(flat(self.body(every(carried)))),
            tuple(inputs[position] for position in self.carried),
        )
        return every(final)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "carried": list(self.carried)}
