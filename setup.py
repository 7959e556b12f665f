"""Builds the optional C kernel of the portable stream (``anyinit.adapters.numpy._threefry_c``).

Everything else is in ``pyproject.toml``. The extension is optional: where no C
compiler is available the build goes on without it and anyinit uses its NumPy
kernel (same values; ``anyinit info`` says which one runs).
"""

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """Optimise where the compiler takes GCC/Clang flags; never fail the install."""

    def build_extensions(self) -> None:
        if self.compiler.compiler_type == "unix":
            for extension in self.extensions:
                # -ffp-contract=off: every rounding is the one written (no fused multiply-
                # add). -fno-trapping-math lets the vectoriser compute both of erfinv's
                # branches and keep one (the values are the same; only FP traps, which
                # nothing here enables, would differ).
                extension.extra_compile_args += [
                    "-O3",
                    "-ffp-contract=off",
                    "-fno-math-errno",
                    "-fno-trapping-math",
                ]
        super().build_extensions()


setup(
    ext_modules=[
        Extension(
            "anyinit.adapters.numpy._threefry_c",
            ["src/anyinit/adapters/numpy/_threefry_c.c"],
            depends=["src/anyinit/adapters/numpy/_threefry_kernels.h"],
            optional=True,
        )
    ],
    cmdclass={"build_ext": OptionalBuildExt},
)
