"""Blocks: declared hyperparameters, typed calls, and the checks made on them."""

from typing import ClassVar, Literal, Optional

import attrs
import keras
import numpy as np
import pytest

import compose
from compose import Tensor
from block_contract import check_block


class Proj(compose.Block):
    units: int = 8
    activation: Optional[str] = None

    def setup(self):
        self.dense = keras.layers.Dense(self.units, activation=self.activation)

    def call(self, x: Tensor["batch", "features"]) -> Tensor["batch", "units"]:
        return self.dense(x)


class Mixer(compose.Block):
    """Two inputs sharing the named dim `batch`; sizes read back from a JSON config as tuples."""

    sizes: tuple[int, ...] = (4, 4)
    rate: float = 0.0
    mode: Literal["sum", "concat"] = "sum"
    depth: int = attrs.field(default=1, validator=attrs.validators.ge(1))
    scale: ClassVar[float] = 2.0  # a ClassVar is a constant, not a hyperparameter

    def setup(self):
        self.left = keras.layers.Dense(self.sizes[0])
        self.right = keras.layers.Dense(self.sizes[1])

    def call(self, a: Tensor["batch", "n"], b: Tensor["batch", "m"]) -> Tensor["batch", "out"]:
        left, right = self.left(a), self.right(b)
        if self.mode == "sum":
            return left + right
        return keras.ops.concatenate([left, right], axis=-1)


class Embed(compose.Block):
    vocab: int = 10
    dim: int = 3

    def setup(self):
        self.embedding = keras.layers.Embedding(self.vocab, self.dim)

    def call(self, ids: Tensor.int32["batch", "seq"]) -> Tensor.float32["batch", "seq", "dim"]:
        return self.embedding(ids)


class Pair(compose.Block):
    def call(self, a: Tensor["batch", "d"], b: Tensor["batch", "d"]) -> Tensor["batch", "d"]:
        return a + b


class Needs(compose.Block):
    width: int  # required: no default

    def setup(self):
        self.dense = keras.layers.Dense(self.width)

    def call(self, x):
        return self.dense(x)


def test_contract_of_each_block(tmp_path):
    """Every well-formed Block of this module goes through the whole contract. (Blocks defined
    inside other tests are deliberately broken: they exist to show an error.)"""
    assert check_block(Proj(units=3), (2, 5), tmp_path=tmp_path).shape == (2, 3)
    assert check_block(Residual(units=3), (2, 3), tmp_path=tmp_path).shape == (2, 3)
    assert check_block(Pair(), (2, 3), (2, 3), tmp_path=tmp_path).shape == (2, 3)
    assert check_block(Needs(width=2), (2, 3), tmp_path=tmp_path).shape == (2, 2)
    assert check_block(Mixer(mode="concat"), (2, 3), (2, 6), tmp_path=tmp_path).shape == (2, 8)
    out = check_block(Embed(), (2, 7), tmp_path=tmp_path, dtypes=("int32",))
    assert out.shape == (2, 7, 3)


def test_hyperparameters_defaults_positional_and_repr():
    assert Proj().units == 8
    assert Proj(3).units == 3
    block = Mixer(sizes=[2, 5], rate=1, name="mix")  # list -> tuple, int -> float, as from JSON
    assert block.sizes == (2, 5) and isinstance(block.rate, float)
    assert repr(block) == "Mixer(sizes=(2, 5), rate=1.0, mode='sum', depth=1, name='mix')"
    assert "scale" not in Mixer().get_config()
    config = Mixer(sizes=(3, 3)).get_config()
    assert config["sizes"] == (3, 3) and config["mode"] == "sum"


def test_keras_keyword_arguments_pass_through():
    block = Proj(units=2, name="head", dtype="float64", trainable=False)
    assert block.name == "head" and block.dtype == "float64" and block.trainable is False
    block(np.ones((1, 3)))
    assert block.dense.kernel.dtype == "float64"
    assert block.count_params() == 3 * 2 + 2


def test_wrong_type_names_the_hyperparameter():
    with pytest.raises(compose.HyperparameterError, match="Proj: hyperparameter 'units' expects int, got str 'eight'") as info:
        Proj(units="eight")
    assert info.value.name == "units" and info.value.value == "eight"
    with pytest.raises(compose.HyperparameterError, match="'units' expects int, got bool"):
        Proj(units=True)
    with pytest.raises(compose.HyperparameterError, match=r"'mode' expects Literal\['sum', 'concat'\], got str 'mean'"):
        Mixer(mode="mean")
    with pytest.raises(compose.HyperparameterError, match=r"'sizes' expects tuple\[int, ...\]"):
        Mixer(sizes=("a",))


def test_attrs_validators_run_and_name_the_block():
    with pytest.raises(compose.HyperparameterError, match="Mixer: 'depth' must be >= 1: 0"):
        Mixer(depth=0)


def test_unknown_or_repeated_keywords_are_refused():
    with pytest.raises(compose.HyperparameterError, match="unknown keyword argument.*'unit'.*Hyperparameters: units, activation"):
        Proj(unit=3)
    with pytest.raises(compose.HyperparameterError, match="'units' given twice"):
        Proj(3, units=4)
    with pytest.raises(compose.HyperparameterError, match="at most 2 positional"):
        Proj(1, None, 3)


def test_required_hyperparameter():
    assert Needs(width=2).width == 2
    with pytest.raises(compose.HyperparameterError, match="missing required hyperparameter.*width"):
        Needs()


def test_hyperparameters_are_read_only_and_replace_makes_a_changed_copy():
    block = Proj(units=2, name="head")
    with pytest.raises(compose.HyperparameterError, match=r"Proj\(units: int = 8, activation: Optional\[str\] = None\): hyperparameter 'units' is read-only.*block.replace\(units=5\)") as info:
        block.units = 5
    assert isinstance(info.value.__cause__, AttributeError) and info.value.name == "units"
    assert block.get_config()["units"] == 2
    block.other = 1  # other attributes are set as usual
    wide = block.replace(units=5)
    assert (wide.units, wide.activation, block.units) == (5, None, 2) and wide.name != "head"
    assert block.replace(name="copy").name == "copy"
    with pytest.raises(compose.HyperparameterError, match="'units' expects int"):
        block.replace(units="5")


def test_list_and_dict_hyperparameters_are_never_shared():
    """A default, a caller's list, a value read back and a config handed out are all separate:
    mutating one cannot change a block's config behind the weights it describes."""

    class Lists(compose.Block):
        sizes: list[int] = [1, 2]
        table: dict[str, list[int]] = {"a": [1]}

    mine, table = [3, 4], {"b": [5]}
    block = Lists(sizes=mine, table=table)
    mine.append(99)
    table["b"].append(99)
    block.sizes.append(99)
    block.get_config()["table"]["b"].append(99)
    assert block.get_config()["sizes"] == [3, 4] and block.table == {"b": [5]}
    first, second = Lists(), Lists()
    first.sizes.append(99)
    assert first.get_config()["sizes"] == second.get_config()["sizes"] == [1, 2]
    assert Lists.from_config(first.get_config()).table == {"a": [1]}


def test_class_definition_refuses_non_data_or_clashing_hyperparameters():
    with pytest.raises(compose.HyperparameterError, match="'inner' is annotated Layer; hyperparameters are plain data"):

        class HoldsLayer(compose.Block):
            inner: keras.layers.Layer = None

    with pytest.raises(compose.HyperparameterError, match="'name'.*would hide the keras.layers.Layer attribute"):

        class Named(compose.Block):
            name: str = "x"


@pytest.mark.parametrize(
    "name, owner",
    [
        ("setup", "Block.setup"),
        ("replace", "Block.replace"),
        ("call", "the keras.layers.Layer attribute"),
        ("build", "the keras.layers.Layer attribute"),
        ("dtype", "the keras.layers.Layer attribute"),
        ("trainable", "the keras.layers.Layer attribute"),
        ("get_config", "the keras.layers.Layer attribute"),
        ("built", "the keras.layers.Layer attribute"),  # set by Layer.__init__, not a class attribute
        ("output_width", "Base.output_width"),  # a method of a base block
    ],
)
def test_hyperparameter_named_like_the_machinery_is_refused_at_definition(name, owner):
    class Base(compose.Block):
        def output_width(self):
            return 1

    with pytest.raises(compose.HyperparameterError, match=f"Clash: hyperparameter '{name}' would hide {owner}") as info:
        type("Clash", (Base,), {"__annotations__": {name: int}, name: 1})
    assert info.value.name == name


def test_misuse_names_the_block_and_its_signature():
    with pytest.raises(compose.HyperparameterError, match=r"Residual\(units: int = 8\) takes at most 1 positional hyperparameter\(s\), got 2: 8, 'res'.*Residual\(units=..., name=...\)"):
        Residual(8, "res")
    with pytest.raises(compose.HyperparameterError, match=r"Residual\(units=-4, name='bad'\) failed in setup\(\) with ValueError: .*units.* check the values given against Residual\(units: int = 8\)") as info:
        Residual(units=-4, name="bad")
    assert isinstance(info.value.__cause__, ValueError) and info.value.block == "Residual"


def test_symbolic_call_with_wrong_input_fails_before_data_flows():
    flat = keras.layers.Flatten(name="flatten")
    proj = Proj(units=32, name="proj")
    x = flat(keras.Input((28, 28)))

    class Encoder(compose.Block):
        def setup(self):
            self.proj = Residual(units=32, name="proj")

        def call(self, x):
            return self.proj(x)

    with pytest.raises(compose.SpecError) as info:
        Encoder(name="encoder")(x)
    message = str(info.value)
    assert message.startswith("encoder.proj: argument 'x' expects (batch, units=32), got (None, 784) float32")
    assert info.value.path == "encoder.proj" and info.value.argument == "x"
    assert info.value.found == compose.TensorSpec((None, 784), "float32")
    # At the top level Keras knows which layer made the tensor; the message says so.
    with pytest.raises(compose.SpecError, match=r"residual: argument 'x' expects \(batch, units=32\), got \(None, 784\) float32 from 'flatten'"):
        Residual(units=32, name="residual")(x)
    assert not proj.built  # nothing ran: the failing blocks were never built either


class Residual(compose.Block):
    units: int = 8

    def setup(self):
        self.dense = keras.layers.Dense(self.units)

    def call(self, x: Tensor["batch", "units"]) -> Tensor["batch", "units"]:
        return x + self.dense(x)


def test_named_dims_bind_across_arguments():
    with pytest.raises(compose.SpecError, match=r"argument 'b' expects \(batch, d=3\), got \(None, 4\) float32 from 'input_layer.*'d' is 3 here, found 4"):
        Pair()(keras.Input((3,)), keras.Input((4,)))
    with pytest.raises(compose.SpecError, match=r"argument 'b' expects \(batch=2, d=3\), got \(5, 3\) float32: 'batch' is 2"):
        Pair()(np.ones((2, 3), "float32"), np.ones((5, 3), "float32"))


def test_first_eager_call_is_checked_and_dtype_too():
    with pytest.raises(compose.SpecError, match=r"embed: argument 'ids' expects \(batch, seq\) int32, got \(2, 3\) float32: dtype int32 expected"):
        Embed(name="embed")(np.ones((2, 3), "float32"))
    with pytest.raises(compose.SpecError, match="expects a tensor"):
        Proj()(None)


def test_broken_return_contract_names_the_block():
    class Liar(compose.Block):
        units: int = 4

        def setup(self):
            self.dense = keras.layers.Dense(self.units + 1)

        def call(self, x: Tensor["batch", "features"]) -> Tensor["batch", "units"]:
            return self.dense(x)

    with pytest.raises(compose.SpecError, match=r"liar: return value expects \(batch, units=4\), got \(None, 5\) float32: 'units' is 4 here, found 5 on axis 1 \(the block broke its own contract\)"):
        Liar(name="liar")(keras.Input((3,)))
    with pytest.raises(compose.SpecError, match=r"return value expects \(batch=2, units=4\), got \(2, 5\)"):
        Liar()(np.ones((2, 3), "float32"))


def test_checks_cost_nothing_per_compiled_step(monkeypatch):
    calls = []
    real = compose._blocks._block.check_inputs
    monkeypatch.setattr(compose._blocks._block, "check_inputs", lambda *a: (calls.append(1), real(*a))[1])
    inputs = keras.Input((3,))
    model = keras.Model(inputs, Residual(units=3)(inputs))
    model.compile("sgd", "mse")
    data = np.ones((64, 3), "float32")
    model.fit(data, data, batch_size=4, epochs=1, verbose=0)  # 16 steps
    after_one_epoch = len(calls)
    model.fit(data, data, batch_size=4, epochs=2, verbose=0)  # 32 more steps, no new trace
    assert len(calls) == after_one_epoch
    assert after_one_epoch <= 3  # construction and the step's trace, not one per step
    # Eager: the first call is checked, later ones are not.
    block = Residual(units=3)
    before = len(calls)
    for _ in range(5):
        block(data[:2])
    assert len(calls) - before == 1


class WideProj(Proj):
    """Inherits `units` and `activation`, gives `units` a new default, adds `dropout`."""

    units = 16
    dropout: float = 0.0

    def setup(self):
        super().setup()
        self.drop = keras.layers.Dropout(self.dropout)

    def call(self, x: Tensor["batch", "features"]) -> Tensor["batch", "units"]:
        return self.drop(super().call(x))


def test_subclass_inherits_overrides_and_adds_hyperparameters(tmp_path):
    block = WideProj(dropout=0.5, name="wide")
    assert (block.units, block.activation, block.dropout) == (16, None, 0.5)
    assert Proj().units == 8  # the parent's default is untouched
    assert list(WideProj._hyperparameter_specs) == ["units", "activation", "dropout"]
    assert check_block(block, (2, 3), tmp_path=tmp_path).shape == (2, 16)
    with pytest.raises(compose.HyperparameterError, match="WideProj: hyperparameter 'dropout' expects float"):
        WideProj(dropout="high")
