"""Helpers of the search tests: a search killed between two trials, as by ``kill -9``."""

from __future__ import annotations

import pytest

from gcnas.data import RunStore
from gcnas.search import run_search


class Killed(Exception):
    """Raised from the trial callback: the process dies after that trial was stored."""


@pytest.fixture
def killed_search():
    """``killed_search(searcher, objectives, run_dir, at=K, **run_search_kwargs)`` runs a
    search into ``run_dir`` and kills it once trial ``K`` is stored."""

    def run(searcher, objectives, run_dir, *, at: int, **kwargs) -> None:
        def kill(trial):
            if trial.trial == at:
                raise Killed

        with RunStore(run_dir) as store, pytest.raises(Killed):
            run_search(searcher, objectives, store=store, callback=kill, **kwargs)

    return run
