"""The step loop's BLAS thread limit, which a rerun's chunks take once for all of them."""

import pytest

from lstmviz.core.blas import blas_threads

threadpoolctl = pytest.importorskip("threadpoolctl")


def _blas_threads() -> list[int]:
    return [lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"]


def test_a_nested_limit_leaves_the_outer_one_in_force_until_it_ends():
    before = _blas_threads()
    if not before:
        pytest.skip("threadpoolctl sees no BLAS library here")
    with blas_threads(64):
        assert _blas_threads() == [1] * len(before)
        with blas_threads(64):
            assert _blas_threads() == [1] * len(before)
        assert _blas_threads() == [1] * len(before)  # (the inner one did not restore the default)
    assert _blas_threads() == before
