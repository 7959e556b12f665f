"""The built-in backends: one table that the registry, the CLI, the tests and the noxfile read.

Plain data with no imports, so that ``noxfile.py`` can read it without anyinit
installed (``runpy.run_path``).
"""

#: backend name -> (the namespace module users pass as ``xp=``, the adapter's
#: "module:Class", whether array-api-compat wraps the namespace, needs a GPU)
BUILTIN = {
    "numpy": ("numpy", "anyinit.adapters.numpy.adapter:NumpyBackend", True, False),
    "torch": ("torch", "anyinit.adapters.torch.adapter:TorchBackend", True, False),
    "array_api_strict": ("array_api_strict", None, False, False),
    "jax": ("jax.numpy", "anyinit.adapters.jax.adapter:JaxBackend", False, False),
    "dask": ("dask.array", "anyinit.adapters.dask.adapter:DaskBackend", True, False),
    "cupy": ("cupy", "anyinit.adapters.cupy.adapter:CupyBackend", True, True),
    "tensorflow": (
        "tensorflow",
        "anyinit.adapters.tensorflow.adapter:TensorflowBackend",
        False,
        False,
    ),
    "mlx": ("mlx.core", "anyinit.adapters.mlx.adapter:MlxBackend", False, False),
}

#: Namespace module name -> adapter path, for the registry.
ADAPTERS = {module: adapter for module, adapter, _, _ in BUILTIN.values() if adapter}
#: Namespaces that array-api-compat wraps as ``array_api_compat.<name>``.
WRAPPED = frozenset(module for module, _, wrapped, _ in BUILTIN.values() if wrapped)
#: Backend name -> its namespace module.
MODULES = {name: module for name, (module, _, _, _) in BUILTIN.items()}
#: Libraries computed on the host and exported (``adapters.bridge``): their top-level package
#: -> the module users pass as ``xp=``.
BRIDGED = {"tensorflow": "tensorflow", "mlx": "mlx.core"}
#: Backends whose tests need a CUDA GPU.
NEEDS_GPU = frozenset(name for name, (_, _, _, gpu) in BUILTIN.items() if gpu)
