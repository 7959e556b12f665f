"""The one place that imports :mod:`array_api_compat`.

Keeping every use behind this module makes vendoring array-api-compat a
one-file change, as array-api-extra does.
"""

from __future__ import annotations

from array_api_compat import array_namespace, device, is_array_api_obj

__all__ = ["array_namespace", "device", "is_array_api_obj"]
