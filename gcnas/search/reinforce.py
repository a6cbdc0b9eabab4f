"""REINFORCE with an LSTM controller (ENAS / NAS-Bench-201's REINFORCE baseline), as a multi-trial searcher.

The controller (Zoph & Le, 2017; Pham et al., 2018) makes the space's decisions
(``space.decisions``: on NAS-Bench-201 the op of each of the six edges; on DARTS the 24
input pairs and ops) one after another: at each step an LSTM cell reads the embedding of
the previous decision (a learned start vector at the first step) and a softmax over that
decision's choices, one linear head per decision, gives its value; ``space.from_decisions``
builds the cell. Decisions that offer the same choices (NAS-Bench-201's six edges, DARTS'
16 ops) share their embedding rows, so on NAS-Bench-201 the controller is exactly ENAS'
(and this module's before spaces became plug-ins: the same seeds give the same runs). It
is trained by REINFORCE, one policy-gradient step per finished trial in trial order, with

* the reward: the primary objective (maximisation convention), minus
  ``penalty * max(0, slack)`` summed over the constraints -- the penalty reward of RENA
  (Zhou et al., 2018), so a cell that breaks a bound earns less the more it breaks it
  (:func:`penalised_reward`). With several objectives the reward is this scalar (the
  primary objective plus penalties); the other objectives are recorded, and the run's
  Pareto front is taken over every trial, but the controller is not steered by them.
  A cheap constraint (a latency table ...) prunes the candidates before the search unless
  it is built with ``prune=False`` (CLI ``--cheap-bounds evaluate``): only then do cells
  that break it reach the controller, penalised, as in RENA;
* an exponential-moving-average baseline (bias-corrected, updated with the reward
  before the advantage is taken, as NAS-Bench-201's baseline does);
* an entropy bonus ``entropy_weight * H(policy)`` along the sampled cell;
* Adam.

**Memory buffer** (``memory_buffer=N``; Adam & Lorraine, 2019, "Understanding Neural
Architecture Search Techniques", arXiv:1904.00438): every previously evaluated cell is
kept in a buffer, and each update adds to the policy-gradient loss a supervised loss,
the mean negative log-likelihood of ``min(N, len(buffer))`` cells drawn from the buffer
uniformly without replacement, teacher-forced through the controller
(``L = L_PG + L_sup``). That is the authors' description of their fix (a self-supervised
penalty for reconstructing a random sample of past architectures, added to the
policy-gradient loss at each controller step), which forces the hidden state to encode
past decisions. Their buffer holds up to 10,000 cells sampled from the controller each
epoch; here it is the trials of the run, the only cells a multi-trial search samples.

**Statelessness**: the controller after ``k`` trials is a deterministic function of
those trials (its initial weights and the buffer draws come from ``seed`` and the trial
index). Each :meth:`~ReinforceSearch.ask` continues the cached controller with the trials
not yet consumed, or replays all of them when the observations are not a continuation
(a resumed run in a fresh process), so a killed run resumes to identical proposals.

**Proposals** in a space that cannot be listed, without ``candidates`` (DARTS), are cells
drawn from the controller, decision by decision, the cells already evaluated or pending
rejected. Otherwise they are drawn from the controller's distribution restricted to the free
candidates (unevaluated, not pruned, not already proposed in this batch): the exact
log-probability of every free cell is computed in one batch and ``n`` distinct cells are
drawn without replacement with the Gumbel top-k trick. That is what sampling from the
controller and rejecting taken cells would give, without the rejection loop that a
pruned candidate set (a few hundred cells of 15,625) would make long.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from gcnas.exceptions import InvalidInputError
from gcnas.search.base import Arch, Observations, Searcher, register_searcher, resolve_space
from gcnas.spaces import Decision, SearchSpace

PAD = -1e9
"""The logit of a choice a decision does not have (where decisions differ in size): its
probability is exactly 0 and its entropy term 0, with finite gradients (``-inf`` gives NaN ones)."""

ENUMERATE_LIMIT = 2_000_000
"""Largest decision-vector count for which the log-probability of every vector is computed in
one pass (:meth:`Controller.log_prob_all`); above it, candidates are scored one by one."""

__all__ = ["Controller", "ReinforceSearch", "penalised_reward"]


def penalised_reward(Y: np.ndarray, slack: np.ndarray, penalty: float) -> np.ndarray:
    """The controller's reward: primary objective minus ``penalty`` times the summed violations.

    Args:
        Y: ``(n, m)`` objectives in the maximisation convention; column 0 is the reward.
        slack: ``(n, k)`` constraint violations, ``> 0`` where a bound is broken.
        penalty: Reward lost per unit of violation (in the constraint's units).

    Returns:
        ``(n,)`` rewards ``Y[:, 0] - penalty * sum_k max(0, slack[:, k])``; NaN for failed
        trials (a NaN objective or slack).

    Example:
        >>> penalised_reward(np.array([[90.0], [92.0]]), np.array([[-1.0], [2.5]]), penalty=2.0)
        array([90., 87.])
    """
    Y = np.asarray(Y, dtype=np.float64)
    slack = np.asarray(slack, dtype=np.float64)
    if Y.ndim != 2 or Y.shape[1] < 1 or slack.ndim != 2 or len(slack) != len(Y):
        raise InvalidInputError(f"need Y of shape (n, m >= 1) and slack of shape (n, k), got {Y.shape} and "
                                f"{slack.shape}")
    failed = ~(np.isfinite(Y).all(axis=1) & np.isfinite(slack).all(axis=1))
    violation = np.clip(np.nan_to_num(slack, nan=0.0), 0.0, None).sum(axis=1)
    reward = Y[:, 0] - penalty * violation
    reward[failed] = np.nan
    return reward


class Controller(nn.Module):
    """The LSTM controller: one step per decision, its input the previous decision's embedding.

    Args:
        decisions: The space's decisions (default NAS-Bench-201's: 6 edges of 5 ops); one
            softmax head each, and one block of embedding rows per distinct tuple of choices.
        hidden_size: LSTM width.
        seed: Seeds the initial weights (uniform in ``[-0.1, 0.1]``, as ENAS).

    Example:
        >>> controller = Controller(get_space("darts").decisions, hidden_size=16)
        >>> controller.sample(2, np.random.default_rng(0)).shape
        (2, 24)
    """

    def __init__(self, decisions: Sequence[Decision] | None = None, hidden_size: int = 64, seed: int = 0) -> None:
        super().__init__()
        decisions = tuple(decisions) if decisions is not None else resolve_space(None).decisions
        if not decisions or not all(isinstance(getattr(d, "choices", None), tuple) for d in decisions):
            raise InvalidInputError(f"Controller needs a non-empty tuple of Decision (space.decisions), "
                                    f"got {decisions!r}")
        self.sizes = tuple(d.size for d in decisions)
        self.n_decisions = len(decisions)
        blocks: dict[tuple[str, ...], int] = {}
        for d in decisions:
            blocks.setdefault(d.choices, sum(len(c) for c in blocks))
        self.offsets = tuple(blocks[d.choices] for d in decisions)
        """First embedding row of each decision's choices (shared by decisions with the same choices)."""
        self.start = nn.Parameter(torch.zeros(1, hidden_size))
        self.embed = nn.Embedding(sum(len(c) for c in blocks), hidden_size)
        self.cell = nn.LSTMCell(hidden_size, hidden_size)
        self.heads = nn.ModuleList(nn.Linear(hidden_size, size) for size in self.sizes)
        generator = torch.Generator().manual_seed(int(seed))
        with torch.no_grad():
            for parameter in self.parameters():
                parameter.uniform_(-0.1, 0.1, generator=generator)

    def forward(self, ops: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Teacher-forced pass over given decisions.

        Args:
            ops: ``(b, n_decisions)`` long tensor of decisions.

        Returns:
            ``(b, n_decisions, max choices)`` logits of each decision given the earlier ones
            (:data:`PAD` beyond a decision's own choices: probability 0, and finite, so
            that no gradient is NaN), and ``(b, hidden_size)`` the hidden
            state after reading all decisions (the last one's embedding included), the
            state the memory-buffer paper compares.
        """
        batch = ops.shape[0]
        x = self.start.expand(batch, -1)
        state = None
        logits = []
        widest = max(self.sizes)
        for step in range(self.n_decisions):
            state = self.cell(x, state)
            step_logits = self.heads[step](state[0])
            if self.sizes[step] < widest:
                step_logits = nn.functional.pad(step_logits, (0, widest - self.sizes[step]), value=PAD)
            logits.append(step_logits)
            x = self.embed(ops[:, step] + self.offsets[step])
        hidden, _ = self.cell(x, state)
        return torch.stack(logits, dim=1), hidden

    def log_prob(self, ops: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(b,)`` log-probabilities of whole cells and ``(b,)`` the summed per-step entropies."""
        logits, _ = self(ops)
        log_p = torch.log_softmax(logits, dim=-1)
        chosen = log_p.gather(-1, ops.unsqueeze(-1)).squeeze(-1).sum(dim=1)
        entropy = -(log_p.exp() * log_p).sum(dim=(1, 2))
        return chosen, entropy

    @torch.no_grad()
    def log_prob_all(self) -> torch.Tensor:
        """``(prod of decision sizes,)`` log-probability of every decision vector, indexed by
        :func:`vector_index` (on NAS-Bench-201 that is ``Arch.code``).

        The pass walks the prefix tree (the state after ``t`` decisions is shared by every
        vector with that prefix): on NAS-Bench-201 1 + 5 + ... + 5^5 = 3,906 LSTM rows for
        the 15,625 cells, instead of 6 x 15,625 for a teacher-forced batch. Prefixes are
        kept in lexicographic order, first decision most significant.

        Raises:
            InvalidInputError: More than :data:`ENUMERATE_LIMIT` vectors (score cells with
                :meth:`log_prob` instead).
        """
        if math.prod(self.sizes) > ENUMERATE_LIMIT:
            raise InvalidInputError(f"the controller's decisions make {math.prod(self.sizes):.3g} cells, more than "
                                    f"{ENUMERATE_LIMIT:,} to score at once; use log_prob on the cells wanted")
        x = self.start
        state = None
        total = torch.zeros(1, dtype=x.dtype)
        for step in range(self.n_decisions):
            state = self.cell(x, state)
            log_p = torch.log_softmax(self.heads[step](state[0]), dim=-1)
            total = (total.unsqueeze(1) + log_p).reshape(-1)
            if step + 1 < self.n_decisions:
                size, first = self.sizes[step], self.offsets[step]
                state = tuple(s.repeat_interleave(size, dim=0) for s in state)
                x = self.embed.weight[first:first + size].repeat(len(state[0]) // size, 1)
        return total

    @torch.no_grad()
    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``(n, n_decisions)`` cells drawn ancestrally from the controller (duplicates allowed)."""
        x = self.start.expand(n, -1)
        state = None
        ops = np.zeros((n, self.n_decisions), dtype=np.int64)
        for step in range(self.n_decisions):
            state = self.cell(x, state)
            probs = torch.softmax(self.heads[step](state[0]), dim=-1).double().numpy()
            cdf = np.cumsum(probs, axis=1)
            ops[:, step] = np.minimum((cdf < rng.random((n, 1)) * cdf[:, -1:]).sum(axis=1), probs.shape[1] - 1)
            x = self.embed(torch.as_tensor(ops[:, step] + self.offsets[step]))
        return ops

    @torch.no_grad()
    def hidden_states(self, ops: np.ndarray) -> np.ndarray:
        """``(b, hidden_size)`` hidden states after reading the given cells' decisions."""
        return self(torch.as_tensor(np.asarray(ops, dtype=np.int64)))[1].double().numpy()


def vector_index(vectors: np.ndarray, sizes: Sequence[int]) -> np.ndarray:
    """``(n,)`` int64: each decision vector read as a mixed-radix number, first decision most
    significant (the order of :meth:`Controller.log_prob_all`; ``Arch.code`` on NAS-Bench-201).

    Example:
        >>> vector_index(np.array([[0, 1], [2, 0]]), sizes=(3, 2)).tolist()
        [1, 4]
    """
    index = np.zeros(len(vectors), dtype=np.int64)
    for column, size in enumerate(sizes):
        index = index * size + np.asarray(vectors)[:, column]
    return index


@dataclass
class _Trained:
    """The controller after consuming a prefix of the trials (what :class:`ReinforceSearch` caches)."""

    controller: Controller
    optimizer: torch.optim.Optimizer
    cells: list[Any] = field(default_factory=list)
    """Identities (:meth:`Searcher.cell_id`) of the trials consumed, in order."""
    rewards: list[float] = field(default_factory=list)
    ema_numerator: float = 0.0
    ema_denominator: float = 0.0


@register_searcher("reinforce")
class ReinforceSearch(Searcher):
    """REINFORCE over an LSTM controller, optionally with the memory buffer (see the module doc).

    Args:
        learning_rate: Adam's step size.
        baseline_decay: Decay of the exponential-moving-average baseline.
        entropy_weight: Weight of the entropy bonus, in reward units per nat.
        memory_buffer: Past cells replayed (supervised) at each update; 0 turns the buffer off.
        penalty: Reward lost per unit of constraint violation (RENA's penalty reward).
        hidden_size: LSTM width.
        seed: Seeds the controller's initial weights and the buffer draws (the run's
            per-step generator draws the proposals).
        space: The search space or its name (default NAS-Bench-201: six decisions of five ops).
        candidates: Architectures the search may propose (default: the whole space, or in
            a space that cannot be listed, any cell the controller draws).

    Example:
        >>> search = ReinforceSearch(memory_buffer=16, seed=0)
        >>> result = run_search(search, [acc], budget=100, seed=0)
        >>> obs = Observations([t.arch for t in result.trials], result.values("acc")[:, None], np.zeros((100, 0)))
        >>> search.trained_controller(obs).hidden_states(np.array([a.ops for a in obs.archs]))  # (100, 64)
    """

    def __init__(self, learning_rate: float = 0.01, baseline_decay: float = 0.9, entropy_weight: float = 0.0,
                 memory_buffer: int = 0, penalty: float = 1.0, hidden_size: int = 64, seed: int = 0, *,
                 space: SearchSpace | str | None = None, candidates: Sequence[Arch] | None = None) -> None:
        super().__init__(space=space, candidates=candidates)
        self.learning_rate = learning_rate
        self.baseline_decay = baseline_decay
        self.entropy_weight = entropy_weight
        self.memory_buffer = memory_buffer
        self.penalty = penalty
        self.hidden_size = hidden_size
        self.seed = seed
        for name, value, least in (("memory_buffer", memory_buffer, 0), ("hidden_size", hidden_size, 1),
                                   ("seed", seed, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise InvalidInputError(f"{name} must be an integer >= {least}, got {value!r}")
        if not float(learning_rate) > 0:
            raise InvalidInputError(f"learning_rate must be > 0, got {learning_rate!r}")
        if not 0 <= float(baseline_decay) < 1:
            raise InvalidInputError(f"baseline_decay must be in [0, 1), got {baseline_decay!r}")
        for name, value in (("entropy_weight", entropy_weight), ("penalty", penalty)):
            if not float(value) >= 0:
                raise InvalidInputError(f"{name} must be >= 0, got {value!r}")
        self._trained: _Trained | None = None
        self.replayed_: list[list[int]] = []
        """Per update (in trial order), the buffer indices it replayed: what :meth:`_update` used."""

    # -- the controller as a function of the trials ---------------------------------------

    def trained_controller(self, obs: Observations) -> Controller:
        """The controller after one REINFORCE update per successful trial of ``obs``, in order.

        Args:
            obs: Finished trials.

        Returns:
            The trained controller (cached: do not modify it).
        """
        rewards = penalised_reward(obs.Y, obs.slack, self.penalty) if len(obs) else np.zeros(0)
        cells = [self.cell_id(a) for a in obs.archs]
        trained = self._trained
        if trained is None or not self._continues(trained, cells, rewards):
            trained = self._fresh()
            self.replayed_ = []
        for index in range(len(trained.cells), len(cells)):
            self._update(trained, obs.archs, index, float(rewards[index]))
            trained.cells.append(cells[index])
            trained.rewards.append(float(rewards[index]))
        self._trained = trained
        return trained.controller

    @staticmethod
    def _continues(trained: _Trained, cells: list[Any], rewards: np.ndarray) -> bool:
        done = len(trained.cells)
        return done <= len(cells) and trained.cells == cells[:done] and np.array_equal(
            np.asarray(trained.rewards, dtype=np.float64), rewards[:done], equal_nan=True)

    def _fresh(self) -> _Trained:
        controller = Controller(self.space_.decisions, self.hidden_size, self.seed)
        return _Trained(controller, torch.optim.Adam(controller.parameters(), lr=self.learning_rate))

    def _update(self, trained: _Trained, archs: list[Arch], index: int, reward: float) -> None:
        """One policy-gradient step on trial ``index`` (none for a failed trial), plus the buffer replay."""
        if not np.isfinite(reward):
            return
        decay = self.baseline_decay
        trained.ema_numerator = decay * trained.ema_numerator + (1 - decay) * reward
        trained.ema_denominator = decay * trained.ema_denominator + (1 - decay)
        advantage = reward - trained.ema_numerator / trained.ema_denominator
        log_p, entropy = trained.controller.log_prob(torch.as_tensor([self.space_.to_decisions(archs[index])]))
        loss = -(log_p * advantage).sum() - self.entropy_weight * entropy.sum()
        replay: list[int] = []
        if self.memory_buffer and index > 0:
            draw = np.random.default_rng([self.seed, index])
            replay = sorted(draw.choice(index, size=min(self.memory_buffer, index), replace=False).tolist())
            loss = loss + self._memory_loss(trained.controller, [self.space_.to_decisions(archs[i]) for i in replay])
        self.replayed_.append(replay)
        trained.optimizer.zero_grad()
        loss.backward()
        trained.optimizer.step()

    @staticmethod
    def _memory_loss(controller: Controller, cells: list[list[int]]) -> torch.Tensor:
        """Mean negative log-likelihood of past cells (their decision vectors), teacher-forced
        (the supervised buffer loss)."""
        log_p, _ = controller.log_prob(torch.as_tensor(cells))
        return -log_p.mean()

    # -- proposals ------------------------------------------------------------------------

    def prepare(self, candidates: Sequence[Arch] | None, known: np.ndarray | None = None) -> None:
        super().prepare(candidates, known)
        vectors = np.array([self.space_.to_decisions(a) for a in self.candidates_], dtype=np.int64)
        self._vectors = vectors.reshape(len(self.candidates_), len(self.space_.decisions))
        sizes = [d.size for d in self.space_.decisions]
        self._rows = vector_index(self._vectors, sizes) if math.prod(sizes) <= ENUMERATE_LIMIT else None

    def ask(self, obs: Observations, n: int, rng: np.random.Generator) -> list[Arch]:
        if self.enumerates:
            return super().ask(obs, n, rng)
        self.notes_ = {}
        return self._draw(obs, n, rng)

    def _ask(self, obs: Observations, n: int, rng: np.random.Generator, free: np.ndarray) -> list[Arch]:
        controller = self.trained_controller(obs)
        if self._rows is not None:
            log_p = controller.log_prob_all().double().numpy()[self._rows[free]]
        else:
            with torch.no_grad():
                log_p = controller.log_prob(torch.as_tensor(self._vectors[free]))[0].double().numpy()
        keys = log_p + rng.gumbel(size=len(free))
        chosen = np.argsort(-keys, kind="stable")[:n]
        return [self.candidates_[free[i]] for i in chosen]

    def _draw(self, obs: Observations, n: int, rng: np.random.Generator, rounds: int = 20) -> list[Arch]:
        """``n`` new cells drawn from the controller (a space that cannot be listed), the
        evaluated and pending ones rejected; after ``rounds`` batches of draws, uniform samples
        of the space fill what is missing (noted as ``controller_exhausted``)."""
        controller = self.trained_controller(obs)
        taken = obs.taken(self.cell_id)
        cells: list[Arch] = []
        for _ in range(rounds):
            for vector in controller.sample(max(4 * n, 16), rng):
                cell = self.space_.from_decisions([int(v) for v in vector])
                if self.cell_id(cell) not in taken:
                    taken.add(self.cell_id(cell))
                    cells.append(cell)
                if len(cells) == n:
                    return cells
        self.note("controller_exhausted", f"the controller drew only {len(cells)} new cells of {n} in {rounds} "
                                          "rounds; the rest are uniform samples")
        while len(cells) < n:
            cell = self.space_.sample(rng)
            if self.cell_id(cell) not in taken:
                taken.add(self.cell_id(cell))
                cells.append(cell)
        return cells
