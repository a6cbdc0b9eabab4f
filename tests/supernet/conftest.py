from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def digits():
    from gcnas.data.images import load_images

    return load_images("digits")


TINY = dict(dataset="digits", channels=4, cells=1, batch_size=32, steps_per_epoch=3, device="cpu", progress=False)
"""Settings of the tiny supernet runs the tests train (a few seconds each)."""
