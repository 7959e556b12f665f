"""The portable stream: the numbers behind integer seeds, the same on every library.

One sub-package, one job each:

* ``threefry``: JAX's Threefry-2x32 keys, counters and bits, in Array API
  integer operations (the reference every kernel equals bit for bit);
* ``transforms``: float32 uniform, normal and truncated normal from those
  bits, with JAX's constructions and total maps (finite and inside for every
  input word);
* ``numpy_kernel``: the blocked, threaded NumPy kernel of the same bits
  (used by the NumPy adapter, and by torch and the host on the CPU);
* ``torch_kernel``: the same bits in int32 tensor arithmetic (torch devices).

The kernels import their library and are imported only by its adapter.
"""

from . import transforms
from .threefry import StreamKey, counters, independent_streams, key_from_seed
from .transforms import *  # noqa: F403 - the transforms' own __all__ is the list

__all__ = ["StreamKey", "counters", "independent_streams", "key_from_seed", *transforms.__all__]
