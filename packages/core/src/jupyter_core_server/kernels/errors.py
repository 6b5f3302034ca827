"""The kernel service's errors, each with its status and ``reason``."""

from __future__ import annotations

from ..errors import ApiError, NotFound

__all__ = ["NoSuchKernel", "TooManyKernels"]


class NoSuchKernel(NotFound):
    """No kernel has this id."""

    def __init__(self, kernel_id: str) -> None:
        super().__init__(f"No kernel with ID {kernel_id}", "no_such_kernel")


class TooManyKernels(ApiError):
    """Starting one more kernel would pass ``max_kernels`` or ``max_kernels_per_user`` (429)."""

    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, "too_many_kernels", headers={"Retry-After": str(retry_after)})
