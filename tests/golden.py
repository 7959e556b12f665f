"""Golden values: a hash of what every public initializer and in-place function returns.

``cases(backend)`` lists, for one backend, every public initializer and
torch-style function × seeds (ints, a SeedGenerator, the library's own seeded
generator) × dtypes × shapes, each as a name and a function returning a NumPy
copy of the result in its own dtype. ``tests/test_golden.py`` recomputes them
against ``tests/golden_values.json``; a refactor must leave that file as it is.

Orthogonal initializers go through the library's QR (LAPACK, or XLA's), whose
last bits depend on the CPU's kernels (OpenBLAS picks Haswell, SkylakeX, Zen
code at run time), and so do truncated normals drawn with torch's own
generator (torch's ``erfinv_``): their outcome is a fingerprint, eight fixed random
projections of the values, compared with a tolerance (``same``) that rounding
differences pass and any change in the draws fails.

Write the file anew (only when values change on purpose) with::

    python tests/golden.py --write numpy torch array_api_strict jax dask
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import math
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

# As the test suite runs JAX: with float64 (set before jax is imported).
os.environ.setdefault("JAX_ENABLE_X64", "1")
PATH = Path(__file__).with_name("golden_values.json")
SEEDS = (0, 70)
SHAPES = {
    "vector": (7,),
    "matrix": (48, 20),
    "conv": (3, 3, 4, 6),
    "empty": (0, 5),
    "scalar": (),
    # Past one block (2**17 elements): NumPy's blocked kernels and block-wise rejection.
    "large": (600, 300),
}
#: The cases drawn in the "large" shape too (float32 only: it is about the blocking).
LARGE = {"RandomNormal", "RandomUniform", "TruncatedNormal", "GlorotUniform", "trunc_normal_",
         "uniform_", "normal_", "xavier_uniform_"}  # fmt: skip

OUT_OF_PLACE: dict[str, Callable[[Any], Any]] = {
    "RandomNormal": lambda seed: _anyinit().RandomNormal(0.1, 0.5, seed=seed),
    "RandomUniform": lambda seed: _anyinit().RandomUniform(-0.3, 0.7, seed=seed),
    "TruncatedNormal": lambda seed: _anyinit().TruncatedNormal(0.1, 0.5, seed=seed),
    "VarianceScaling": lambda seed: _anyinit().VarianceScaling(
        2.0, "fan_geo_avg", "untruncated_normal", seed=seed
    ),
    "GlorotNormal": lambda seed: _anyinit().GlorotNormal(seed=seed),
    "GlorotUniform": lambda seed: _anyinit().GlorotUniform(seed=seed),
    "HeNormal": lambda seed: _anyinit().HeNormal(seed=seed),
    "HeUniform": lambda seed: _anyinit().HeUniform(seed=seed),
    "LecunNormal": lambda seed: _anyinit().LecunNormal(seed=seed),
    "LecunUniform": lambda seed: _anyinit().LecunUniform(seed=seed),
    "Orthogonal": lambda seed: _anyinit().Orthogonal(1.5, seed=seed),
    "Sparse": lambda seed: _anyinit().Sparse(0.3, seed=seed),
    "DeltaOrthogonal": lambda seed: _anyinit().DeltaOrthogonal(seed=seed),
    "Zeros": lambda seed: _anyinit().Zeros(),
    "Ones": lambda seed: _anyinit().Ones(),
    "Constant": lambda seed: _anyinit().Constant(0.25),
    "Identity": lambda seed: _anyinit().Identity(2.0),
    "Dirac": lambda seed: _anyinit().Dirac(2),
}
IN_PLACE: dict[str, dict[str, Any]] = {
    "uniform_": {"a": -0.3, "b": 0.7},
    "normal_": {"mean": 0.1, "std": 0.5},
    "trunc_normal_": {"mean": 0.0, "std": 0.02},
    "xavier_uniform_": {"gain": 2.0},
    "xavier_normal_": {"gain": 0.5},
    "kaiming_uniform_": {"a": math.sqrt(5)},
    "kaiming_normal_": {"mode": "fan_out", "nonlinearity": "relu"},
    "orthogonal_": {"gain": 1.5},
    "sparse_": {"sparsity": 0.3},
    "constant_": {"val": 0.25},
    "zeros_": {},
    "ones_": {},
    "eye_": {},
    "dirac_": {"groups": 2},
}
NEEDS_SEED = {"uniform_", "normal_", "trunc_normal_", "xavier_uniform_", "xavier_normal_",
              "kaiming_uniform_", "kaiming_normal_", "orthogonal_", "sparse_"}  # fmt: skip


def _anyinit() -> Any:
    import anyinit

    return anyinit


def _digest(array: np.ndarray) -> str:
    data = np.ascontiguousarray(array)
    if data.dtype.kind == "V" or data.dtype.name == "bfloat16":
        data = data.astype(np.float32)
    header = f"{data.dtype.str}{data.shape}".encode()
    return hashlib.sha256(header + data.tobytes()).hexdigest()[:20]


class _Library:
    """Just enough of one backend to make arrays and read them back."""

    def __init__(self, name: str) -> None:
        self.name = name
        if name == "readonly_numpy":  # NumPy with immutable arrays (tests/readonly_numpy.py)
            import readonly_numpy

            readonly_numpy.register()
            self.xp = readonly_numpy.namespace
            return
        module = {"jax": "jax.numpy", "dask": "dask.array", "mlx": "mlx.core"}.get(name, name)
        self.xp = importlib.import_module(module)

    def dtypes(self) -> tuple[str, ...]:
        if self.name == "array_api_strict":
            return ("float32", "float64")
        return ("float16", "bfloat16", "float32", "float64")

    def available(self, dtype: str) -> bool:
        """Whether this environment has `dtype` (NumPy's bfloat16 comes from ml_dtypes)."""
        if dtype != "bfloat16" or self.name in ("torch", "array_api_strict"):
            return True
        return importlib.util.find_spec("ml_dtypes") is not None

    def target(self, dtype: str) -> dict[str, Any]:
        """The keyword that puts a result on this library: ``like=`` an array, or ``xp=``."""
        if self.name == "readonly_numpy":
            return {"xp": self.xp}
        return {"like": self.like(dtype)}

    def like(self, dtype: str) -> Any:
        if self.name in ("tensorflow", "mlx"):
            return self._bridged((0,), dtype)
        if self.name == "torch":
            return self.xp.empty((0,), dtype=getattr(self.xp, dtype))
        if self.name == "array_api_strict":
            return self.xp.empty((0,), dtype=getattr(self.xp, dtype))
        return self.xp.zeros((0,), dtype=_numpy_dtype(dtype))

    def _bridged(self, shape: tuple[int, ...], dtype: str) -> Any:
        """Zeros of TensorFlow or MLX (made through float32: neither takes NumPy's bfloat16)."""
        zeros = np.zeros(shape, np.float32)
        if self.name == "tensorflow":
            return self.xp.cast(self.xp.constant(zeros), dtype)
        return self.xp.array(zeros).astype(getattr(self.xp, dtype))

    def mutable(self, shape: tuple[int, ...], dtype: str) -> Any:
        if self.name in ("jax", "dask", "readonly_numpy"):
            return None
        if self.name == "tensorflow":  # written in place: a tf.Variable
            return self.xp.Variable(self._bridged(shape, dtype))
        if self.name == "mlx":
            return self._bridged(shape, dtype)
        if self.name == "torch":
            return self.xp.zeros(shape, dtype=getattr(self.xp, dtype))
        if self.name == "array_api_strict":
            return self.xp.zeros(shape, dtype=getattr(self.xp, dtype))
        return np.zeros(shape, dtype=_numpy_dtype(dtype))

    def native(self, seed: int) -> Any:
        """The library's own generator, seeded (None where it has none)."""
        if self.name == "torch":
            return self.xp.Generator().manual_seed(seed)
        if self.name in ("numpy", "array_api_strict", "readonly_numpy"):
            return np.random.default_rng(seed)
        return None

    def host(self, array: Any) -> np.ndarray:
        if self.name in ("tensorflow", "mlx"):
            from anyinit.plotting import to_numpy

            host = to_numpy(array)
            return host.astype(_numpy_dtype(_dtype_name_of(array)))
        if self.name == "torch":
            tensor = array.detach()
            if tensor.dtype == self.xp.bfloat16:
                tensor = tensor.float()
            return tensor.numpy()
        if self.name == "dask":
            return np.asarray(array.compute())
        if self.name == "array_api_strict":
            return np.from_dlpack(array)
        return np.asarray(array)


def _dtype_name_of(array: Any) -> str:
    from anyinit.target import array_backend

    return array_backend(array)[1].dtype_of(array)


def _numpy_dtype(name: str) -> Any:
    if name == "bfloat16":
        import ml_dtypes

        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(name)


def _shapes_for(name: str) -> list[str]:
    return [*_small_shapes_for(name), *(["large"] if name in LARGE else [])]


def _small_shapes_for(name: str) -> list[str]:
    if name in ("Identity", "eye_", "sparse_", "Sparse"):
        return ["matrix"]
    if name in ("DeltaOrthogonal", "Dirac", "dirac_"):
        return ["conv"]
    if name.endswith("_") and name not in ("uniform_", "normal_", "trunc_normal_",
                                           "constant_", "zeros_", "ones_"):  # fmt: skip
        return ["matrix", "conv"]
    if name in ("Orthogonal",):
        return ["matrix", "conv", "empty"]
    return [shape for shape in SHAPES if shape != "large"]


def _dtypes_for(lib: _Library, shape_name: str) -> tuple[str, ...]:
    dtypes = ("float32",) if shape_name == "large" else lib.dtypes()
    return tuple(dtype for dtype in dtypes if lib.available(dtype))


def _conv_layout(name: str, shape: tuple[int, ...]) -> tuple[int, ...]:
    # The torch-style functions take torch's (out, in, *kernel) layout.
    if name.endswith("_") and len(shape) == 4:
        return (shape[3], shape[2], shape[0], shape[1])
    if name == "dirac_":
        return (4, 2, 3, 3)
    return shape


def cases(
    library: str, recorded_as: str | None = None
) -> Iterator[tuple[str, Callable[[], np.ndarray]]]:
    """Every golden case of one backend, as ``(name, compute)``.

    `recorded_as` names the cases after another library's (the read-only NumPy
    namespace must give NumPy's values).
    """
    lib = _Library(library)
    prefix = recorded_as or library
    anyinit = _anyinit()
    seeds: list[tuple[str, Callable[[], Any]]] = [(f"int{s}", lambda s=s: s) for s in SEEDS]
    seeds.append(("seedgen3", lambda: anyinit.SeedGenerator(3)))
    if lib.native(0) is not None:
        seeds.append(("native5", lambda: lib.native(5)))
    for name, build in OUT_OF_PLACE.items():
        unseeded = name in ("Zeros", "Ones", "Constant", "Identity", "Dirac")
        for seed_name, seed in seeds[:1] if unseeded else seeds:
            for shape_name in _shapes_for(name):
                for dtype in _dtypes_for(lib, shape_name):
                    shape = SHAPES[shape_name]

                    def compute(build=build, seed=seed, shape=shape, dtype=dtype) -> np.ndarray:
                        init = build(seed())
                        if isinstance(init.seed if hasattr(init, "seed") else None,
                                      anyinit.SeedGenerator):  # fmt: skip
                            init(shape, dtype, **lib.target(dtype))  # the second draw counts
                        return lib.host(init(shape, dtype, **lib.target(dtype)))

                    yield f"{prefix}/{name}/{seed_name}/{shape_name}/{dtype}", compute
    if lib.mutable((1,), "float32") is None:
        return
    for name, kwargs in IN_PLACE.items():
        for seed_name, seed in seeds if name in NEEDS_SEED else seeds[:1]:
            for shape_name in _shapes_for(name):
                for dtype in _dtypes_for(lib, shape_name):
                    if name == "orthogonal_" and library == "torch" and "16" in dtype:
                        continue  # torch's own call raises there; ours is covered out of place
                    shape = _conv_layout(name, SHAPES[shape_name])

                    def compute(name=name, kwargs=kwargs, seed=seed, shape=shape, dtype=dtype,
                                seeded=name in NEEDS_SEED) -> np.ndarray:  # fmt: skip
                        tensor = lib.mutable(shape, dtype)
                        extra: dict[str, Any] = {}
                        if seeded:
                            value = seed()
                            key = "generator" if not isinstance(
                                value, (int, anyinit.SeedGenerator)) else "seed"  # fmt: skip
                            extra[key] = value
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore")
                            getattr(anyinit, name)(tensor, **kwargs, **extra)
                        return lib.host(tensor)

                    yield f"{prefix}/{name}/{seed_name}/{shape_name}/{dtype}", compute


#: The cases whose values pass through a QR factorisation.
THROUGH_QR = ("Orthogonal", "DeltaOrthogonal", "orthogonal_")
#: With torch's own generator these draw by inverse CDF through torch's vectorised
#: ``erfinv_``, whose last bits differ between CPUs (Intel and AMD, both AVX-512).
THROUGH_TORCH_ERFINV = ("TruncatedNormal", "GlorotNormal", "HeNormal", "LecunNormal")
_FINGERPRINT = "projections "


def cpu_dependent(name: str) -> bool:
    """Whether a case's last bits depend on the CPU's kernels (it is then a fingerprint)."""
    library, initializer, seed = name.split("/")[:3]
    if initializer in THROUGH_QR:
        return True
    return library == "torch" and seed == "native5" and initializer in THROUGH_TORCH_ERFINV


def _fingerprint(array: np.ndarray) -> str:
    values = np.asarray(array, dtype=np.float64).ravel()
    weights = np.random.default_rng(20261202).standard_normal((8, values.size))
    projections = weights @ values if values.size else np.zeros(8)
    header = np.asarray(array).dtype.name + "[" + "x".join(map(str, np.shape(array))) + "] "
    return _FINGERPRINT + header + " ".join(f"{p:.12e}" for p in projections)


def outcome(compute: Callable[[], np.ndarray], name: str = "") -> str:
    """The digest of the values (a fingerprint through QR), or the exception type raised."""
    try:
        values = compute()
    except Exception as error:
        return f"raises {type(error).__name__}"
    return _fingerprint(values) if name and cpu_dependent(name) else _digest(values)


def same(got: str, expected: str | None) -> bool:
    """Whether two outcomes agree: digests exactly, fingerprints to rounding."""
    if expected is None or not (got.startswith(_FINGERPRINT) and expected.startswith(_FINGERPRINT)):
        return got == expected
    got_header, *got_values = got[len(_FINGERPRINT) :].split(" ")
    want_header, *want_values = expected[len(_FINGERPRINT) :].split(" ")
    if got_header != want_header:
        return False
    # Rounding of the QR moves float64 values by ~1e-15 and float32 ones by ~1e-7; a
    # 16-bit value may round to its neighbour. A different draw moves every projection by O(1).
    tolerance = 1e-9 if got_header.startswith("float64") else 2e-2 if "16" in got_header else 1e-4
    return bool(
        np.allclose(np.float64(got_values), np.float64(want_values), rtol=0, atol=tolerance)
    )


def compute_all(library: str) -> dict[str, str]:
    return {name: outcome(compute, name) for name, compute in cases(library)}


def load() -> dict[str, str]:
    return json.loads(PATH.read_text()) if PATH.exists() else {}


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "--write":
        print(__doc__)
        return 2
    values = load()
    for library in argv[1:]:
        values = {k: v for k, v in values.items() if not k.startswith(f"{library}/")}
        values.update(compute_all(library))
        print(f"{library}: {sum(k.startswith(library + '/') for k in values)} cases")
    PATH.write_text(json.dumps(dict(sorted(values.items())), indent=0) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
