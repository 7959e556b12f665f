"""``anyinit.initialize`` on pytrees of the backend's arrays, and the ``layout=`` call."""

from __future__ import annotations

import math

import numpy as np
import pytest

import anyinit
from anyinit.models.slots import path_hash


def _array(backend, shape):
    return anyinit.zeros()(shape, like=backend.like("float32"))


def _params(backend, extra=False):
    layers = {
        "fc1": {"kernel": _array(backend, (16, 32)), "bias": _array(backend, (32,))},
        "fc2": {"kernel": _array(backend, (16, 32)), "bias": _array(backend, (32,))},
        "embed": {"embedding": _array(backend, (10, 8))},
        "norm": {"scale": _array(backend, (32,)), "bias": _array(backend, (32,))},
        "conv": {"kernel": _array(backend, (3, 3, 4, 8)), "bias": _array(backend, (8,))},
    }
    if extra:
        layers["added"] = {"kernel": _array(backend, (5, 5))}
    return {"params": layers}


def _flat(backend, tree, prefix=""):
    out = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out.update(_flat(backend, value, f"{prefix}{key}."))
        else:
            out[prefix + key] = backend.to_numpy(value)
    return out


# -- layout= on one array -------------------------------------------------------------


@pytest.mark.parametrize("name", ["glorot_normal", "he_uniform", "lecun_normal", "orthogonal"])
def test_a_torch_layout_draws_the_canonical_values_transposed(backend, like, name):
    init = getattr(anyinit, name)(seed=0)
    torch_shaped = backend.to_numpy(init((256, 784), layout="torch", like=like))
    canonical = backend.to_numpy(init((784, 256), like=like))
    np.testing.assert_array_equal(torch_shaped, canonical.T)
    conv = backend.to_numpy(init((8, 4, 3, 3), layout="torch", like=like))
    np.testing.assert_array_equal(
        conv, backend.to_numpy(init((3, 3, 4, 8), like=like)).transpose(3, 2, 0, 1)
    )


def test_the_fans_of_a_torch_layout_are_the_canonical_ones(backend, like):
    # 784 → 256: Glorot's std is sqrt(2 / (784 + 256)) whichever layout holds it; He's sqrt(2/784).
    he = backend.to_numpy(anyinit.he_normal(seed=3)((256, 784), layout="torch", like=like))
    assert abs(he.std() - math.sqrt(2 / 784)) < 0.02 * math.sqrt(2 / 784)


def test_an_explicit_permutation_is_a_layout(backend, like):
    init = anyinit.glorot_uniform(seed=1)
    got = backend.to_numpy(init((4, 2, 3), layout=(2, 0, 1), like=like))
    np.testing.assert_array_equal(
        got, backend.to_numpy(init((2, 3, 4), like=like)).transpose(2, 0, 1)
    )


@pytest.mark.parametrize(
    ("layout", "error", "match"),
    [
        ("pytorch", ValueError, "`layout` must be one of"),
        ((0, 0), ValueError, "permutation"),
        (3, TypeError, "`layout`"),
    ],
)
def test_a_bad_layout_names_the_argument(layout, error, match):
    with pytest.raises(error, match=match):
        anyinit.glorot_uniform(seed=0)((3, 4), layout=layout)


# -- initialize on pytrees ------------------------------------------------------------------


def test_a_preset_on_a_pytree_gives_the_framework_laws(backend):
    new = _flat(backend, anyinit.initialize(_params(backend), "torch", seed=0))
    bound = 1 / math.sqrt(16)  # torch's Linear: kaiming_uniform_(a=√5) → U(±1/√fan_in)
    assert 0.9 * bound < np.abs(new["params.fc1.kernel"]).max() <= bound
    assert np.abs(new["params.fc1.bias"]).max() <= bound
    assert np.abs(new["params.conv.kernel"]).max() <= 1 / math.sqrt(36)
    assert np.all(new["params.norm.scale"] == 1)
    assert np.all(new["params.norm.bias"] == 0)
    assert abs(new["params.embed.embedding"].std() - 1.0) < 0.25  # torch's Embedding: N(0, 1)


def test_a_pytree_comes_back_new_and_the_old_one_unchanged(backend):
    params = _params(backend)
    new = anyinit.initialize(params, "keras", seed=0)
    assert np.all(_flat(backend, params)["params.fc1.kernel"] == 0)
    assert new is not params
    assert set(new["params"]) == set(params["params"])


def test_same_shaped_layers_differ_and_seeds_repeat(backend):
    a = _flat(backend, anyinit.initialize(_params(backend), "flax", seed=0))
    b = _flat(backend, anyinit.initialize(_params(backend), "flax", seed=0))
    assert not np.array_equal(a["params.fc1.kernel"], a["params.fc2.kernel"])
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


def test_a_parameter_draws_from_its_path_alone(backend):
    """Values do not depend on traversal order nor on the other layers: adding a layer, or
    listing the layers in another order, changes no other parameter."""
    base = _flat(backend, anyinit.initialize(_params(backend), "keras", seed=5))
    grown = _flat(backend, anyinit.initialize(_params(backend, extra=True), "keras", seed=5))
    reordered = {"params": dict(reversed(list(_params(backend)["params"].items())))}
    shuffled = _flat(backend, anyinit.initialize(reordered, "keras", seed=5))
    for key, value in base.items():
        np.testing.assert_array_equal(grown[key], value)
        np.testing.assert_array_equal(shuffled[key], value)
    # The documented key: fold_in(key(seed), path_hash(path)), the portable stream's draw.
    init = anyinit.GlorotUniform()
    from anyinit.stream import key_from_seed

    init.seed = key_from_seed(5).fold_in(path_hash("fc1.kernel"))
    expected = backend.to_numpy(init((16, 32), like=backend.like("float32")))
    np.testing.assert_array_equal(base["params.fc1.kernel"], expected)


def test_a_seed_generator_gives_new_values_each_call_and_none_fresh_ones(backend):
    gen = anyinit.SeedGenerator(2)
    first = _flat(backend, anyinit.initialize(_params(backend), "keras", seed=gen))
    second = _flat(backend, anyinit.initialize(_params(backend), "keras", seed=gen))
    again = _flat(
        backend, anyinit.initialize(_params(backend), "keras", seed=anyinit.SeedGenerator(2))
    )
    assert not np.array_equal(first["params.fc1.kernel"], second["params.fc1.kernel"])
    np.testing.assert_array_equal(first["params.fc1.kernel"], again["params.fc1.kernel"])
    fresh = [_flat(backend, anyinit.initialize(_params(backend), "keras", seed=None)) for _ in "ab"]
    assert not np.array_equal(fresh[0]["params.fc1.kernel"], fresh[1]["params.fc1.kernel"])


def test_patterns_pick_the_most_specific_rule_and_leave_the_rest(backend):
    rules = {
        "*.kernel": anyinit.glorot_uniform(),
        "fc1.kernel": anyinit.constant(0.5),
        "*.bias": anyinit.ones(),
    }
    new, report = anyinit.initialize(_params(backend), rules, seed=0, return_report=True)
    flat = _flat(backend, new)
    assert np.all(flat["params.fc1.kernel"] == 0.5)
    assert not np.all(flat["params.fc2.kernel"] == 0.5)
    assert np.any(flat["params.fc2.kernel"] != 0)
    assert np.all(flat["params.norm.bias"] == 1)
    assert np.all(flat["params.embed.embedding"] == 0)
    rows = {row.path: row for row in report}
    assert rows["fc1.kernel"].rule == "pattern 'fc1.kernel'"
    assert "embed.embedding" not in rows


def test_a_callable_rule_sees_the_normalised_path_and_the_array(backend):
    seen = []

    def rule(path, param):
        seen.append((path, tuple(param.shape)))
        return anyinit.ones() if path.endswith("scale") else None

    flat = _flat(backend, anyinit.initialize(_params(backend), rule, seed=0))
    assert ("conv.kernel", (3, 3, 4, 8)) in seen
    assert np.all(flat["params.norm.scale"] == 1)


def test_names_rename_layers_before_hashing(backend):
    tree = {"params": {"Dense_0": {"kernel": _array(backend, (16, 32))}}}
    renamed = _flat(backend, anyinit.initialize(tree, "keras", seed=0, names={"Dense_0": "fc1"}))
    same = _flat(backend, anyinit.initialize(_params(backend), "keras", seed=0))
    np.testing.assert_array_equal(renamed["params.Dense_0.kernel"], same["params.fc1.kernel"])


@pytest.mark.parametrize(
    ("rules", "error", "match"),
    [
        ("pytorch", ValueError, "must be .own., a framework.s preset .* or a recipe"),
        ({"nothing.*": None}, ValueError, "pattern 'nothing.\\*' matches no parameter"),
        ({"*.kernel": "glorot_uniform"}, TypeError, "must be an anyinit initializer"),
        (lambda path, param: 3, TypeError, "it must return an anyinit initializer"),
        (3, TypeError, "`rules` must be"),
    ],
)
def test_bad_rules_name_the_argument_and_write_nothing(backend, rules, error, match):
    params = _params(backend)
    with pytest.raises(error, match=match):
        anyinit.initialize(params, rules, seed=0)
    assert np.all(_flat(backend, params)["params.fc1.kernel"] == 0)


def test_a_model_of_no_known_kind_is_refused():
    with pytest.raises(TypeError, match="`model` must be"):
        anyinit.initialize(object(), "torch", seed=0)


def test_a_namedtuple_node_is_rebuilt_as_itself(backend):
    import collections

    pair = collections.namedtuple("Pair", "dense out")
    tree = pair(
        {"kernel": _array(backend, (4, 3)), "bias": _array(backend, (3,))},
        {"kernel": _array(backend, (3, 2))},
    )
    new = anyinit.initialize(tree, "flax", seed=0)
    assert type(new) is pair
    assert backend.to_numpy(new.dense["kernel"]).std() > 0
    plain = anyinit.initialize({"dense": tree.dense, "out": tree.out}, "flax", seed=0)
    np.testing.assert_array_equal(
        backend.to_numpy(new.out["kernel"]), backend.to_numpy(plain["out"]["kernel"])
    )


@pytest.mark.parametrize("key", ["a.b", "a/b"])
def test_keys_that_normalise_to_one_path_are_refused_naming_both(backend, key):
    tree = {
        key: {"kernel": _array(backend, (2, 2))},
        "a": {"b": {"kernel": _array(backend, (2, 2))}},
    }
    with pytest.raises(ValueError, match="so they would get the same weights"):
        anyinit.initialize(tree, "flax", seed=0)


# -- canonical_weights and the recipes, on the backend's arrays ---------------------------


def _canonical(backend, model):
    return {k: backend.to_numpy(v) for k, v in anyinit.canonical_weights(model).items()}


def test_canonical_weights_reads_every_parameter_in_the_canonical_layout(backend):
    torch_style = {"fc": {"weight": _array(backend, (32, 16)), "bias": _array(backend, (32,))}}
    new = anyinit.initialize(torch_style, "torch", seed=0)
    found = _canonical(backend, new)
    assert {k: v.shape for k, v in found.items()} == {"fc.kernel": (16, 32), "fc.bias": (32,)}
    np.testing.assert_array_equal(found["fc.kernel"], backend.to_numpy(new["fc"]["weight"]).T)


def test_a_recipe_and_mup_draw_their_laws_on_the_backends_arrays(backend):
    def blocks(width):
        return {
            "h": [
                {"c_fc": {"kernel": _array(backend, (16, width))},
                 "c_proj": {"kernel": _array(backend, (width, width))}}
                for _ in range(2)
            ]
        }  # fmt: skip

    new = _canonical(backend, anyinit.initialize(blocks(256), "gpt2", seed=0))
    assert new["h.0.c_fc.kernel"].std() == pytest.approx(0.02, rel=0.05)
    assert new["h.1.c_proj.kernel"].std() == pytest.approx(0.02 / 2, rel=0.05)  # n_layer = 2
    recipe = anyinit.presets.mup(blocks(64), "gpt2")
    wide = _canonical(backend, anyinit.initialize(blocks(1024), recipe, seed=0))
    assert wide["h.0.c_fc.kernel"].std() == pytest.approx(0.02, rel=0.05)  # input: as at 64
    assert wide["h.0.c_proj.kernel"].std() == pytest.approx(0.01 / 4, rel=0.05)  # × √(64/1024)


def test_a_defaultdict_pytree_comes_back_a_defaultdict_with_its_factory(backend):
    import collections

    tree = collections.defaultdict(list, {"fc": {"kernel": _array(backend, (4, 4))}})
    new = anyinit.initialize(tree, "torch", seed=0)
    assert isinstance(new, collections.defaultdict)
    assert new.default_factory is list
    assert backend.to_numpy(new["fc"]["kernel"]).std() > 0


def test_canonical_weights_refuses_two_parameters_renamed_to_one_path(backend):
    tree = {"a": {"kernel": _array(backend, (4, 4))}, "b": {"kernel": _array(backend, (4, 4))}}
    with pytest.raises(
        ValueError, match=r"'a/kernel' and 'b/kernel' both have the path 'x\.kernel'"
    ):
        anyinit.canonical_weights(tree, names={"a": "x", "b": "x"})
