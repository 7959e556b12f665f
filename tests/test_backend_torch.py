"""Behaviour specific to PyTorch: meta tensors, generators on devices, autograd."""

from __future__ import annotations

import pytest

import anyinit

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _only_on_torch(backend):
    if backend.name != "torch":
        pytest.skip("torch-specific behaviour; runs in tests-torch")


@pytest.mark.parametrize(
    "init",
    [
        anyinit.Orthogonal(),
        anyinit.GlorotNormal(),
        anyinit.TruncatedNormal(),
        anyinit.Sparse(0.5),
        anyinit.Identity(),
        anyinit.Dirac(),
        anyinit.Zeros(),
    ],
    ids=lambda i: type(i).__name__,
)
def test_meta_tensors_stay_on_meta(init):
    shape = (3, 4, 4) if isinstance(init, anyinit.Dirac) else (512, 512)
    values = init(shape, like=torch.empty(0, device="meta", dtype=torch.bfloat16))
    assert values.device.type == "meta"
    assert values.dtype == torch.bfloat16
    assert tuple(values.shape) == shape


def test_results_do_not_require_grad(backend):
    values = anyinit.HeNormal(seed=0)((4, 4), like=torch.empty(0, requires_grad=True))
    assert not values.requires_grad


def test_orthogonal_works_where_torch_raises():
    with pytest.raises(NotImplementedError):
        torch.nn.init.orthogonal_(torch.empty(8, 8, dtype=torch.bfloat16))
    values = anyinit.Orthogonal(seed=0)((8, 8), like=torch.empty(0, dtype=torch.bfloat16))
    gram = values.float() @ values.float().T
    assert torch.allclose(gram, torch.eye(8), atol=5e-2)


def test_native_generator_gives_torch_own_stream():
    # A torch.Generator is torch's own stream: the familiar torch.manual_seed values.
    values = anyinit.RandomNormal(0.0, 1.0, seed=torch.Generator().manual_seed(42))((5,), xp=torch)
    expected = torch.empty(5).normal_(0.0, 1.0, generator=torch.Generator().manual_seed(42))
    assert torch.equal(values, expected)
