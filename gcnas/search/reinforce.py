"""REINFORCE with an LSTM controller (ENAS / NAS-Bench-201's REINFORCE baseline), as a multi-trial searcher.

The controller (Zoph & Le, 2017; Pham et al., 2018) makes one decision per edge of the
cell, six in all: at each step an LSTM cell reads the embedding of the previous decision
(a learned start vector at the first step) and a softmax over the five ops, one linear
head per edge, gives that edge's op. It is trained by REINFORCE, one policy-gradient step
per finished trial in trial order, with

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

**Proposals** are drawn from the controller's distribution restricted to the free
candidates (unevaluated, not pruned, not already proposed in this batch): the exact
log-probability of every free cell is computed in one batch and ``n`` distinct cells are
drawn without replacement with the Gumbel top-k trick. That is what sampling from the
controller and rejecting taken cells would give, without the rejection loop that a
pruned candidate set (a few hundred cells of 15,625) would make long.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import torch
from torch import nn

from gcnas.exceptions import InvalidInputError
from gcnas.search.base import Observations, Searcher, register_searcher
from gcnas.spaces.nb201 import EDGES, OPS, Arch, Space

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
        n_decisions: Decisions per cell (6 edges).
        n_choices: Options per decision (5 ops).
        hidden_size: LSTM width.
        seed: Seeds the initial weights (uniform in ``[-0.1, 0.1]``, as ENAS).
    """

    def __init__(self, n_decisions: int = len(EDGES), n_choices: int = len(OPS), hidden_size: int = 64,
                 seed: int = 0) -> None:
        super().__init__()
        self.n_decisions = n_decisions
        self.start = nn.Parameter(torch.zeros(1, hidden_size))
        self.embed = nn.Embedding(n_choices, hidden_size)
        self.cell = nn.LSTMCell(hidden_size, hidden_size)
        self.heads = nn.ModuleList(nn.Linear(hidden_size, n_choices) for _ in range(n_decisions))
        generator = torch.Generator().manual_seed(int(seed))
        with torch.no_grad():
            for parameter in self.parameters():
                parameter.uniform_(-0.1, 0.1, generator=generator)

    def forward(self, ops: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Teacher-forced pass over given decisions.

        Args:
            ops: ``(b, n_decisions)`` long tensor of decisions.

        Returns:
            ``(b, n_decisions, n_choices)`` logits of each decision given the earlier ones,
            and ``(b, hidden_size)`` the hidden state after reading all decisions (the last
            one's embedding included), the state the memory-buffer paper compares.
        """
        batch = ops.shape[0]
        x = self.start.expand(batch, -1)
        state = None
        logits = []
        for step in range(self.n_decisions):
            state = self.cell(x, state)
            logits.append(self.heads[step](state[0]))
            x = self.embed(ops[:, step])
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
        """``(n_choices ** n_decisions,)`` log-probability of every cell, indexed by ``Arch.code``.

        The pass walks the prefix tree (the state after ``t`` decisions is shared by every
        cell with that prefix): 1 + 5 + ... + 5^5 = 3,906 LSTM rows for the 15,625 cells,
        instead of 6 x 15,625 for a teacher-forced batch. Prefixes are kept in
        lexicographic order, first decision most significant, which is the order of
        ``Arch.code``.
        """
        n_choices = self.embed.num_embeddings
        x = self.start
        state = None
        total = torch.zeros(1, dtype=x.dtype)
        for step in range(self.n_decisions):
            state = self.cell(x, state)
            log_p = torch.log_softmax(self.heads[step](state[0]), dim=-1)
            total = (total.unsqueeze(1) + log_p).reshape(-1)
            if step + 1 < self.n_decisions:
                state = tuple(s.repeat_interleave(n_choices, dim=0) for s in state)
                x = self.embed.weight.repeat(len(state[0]) // n_choices, 1)
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
            x = self.embed(torch.as_tensor(ops[:, step]))
        return ops

    @torch.no_grad()
    def hidden_states(self, ops: np.ndarray) -> np.ndarray:
        """``(b, hidden_size)`` hidden states after reading the given cells' decisions."""
        return self(torch.as_tensor(np.asarray(ops, dtype=np.int64)))[1].double().numpy()


@dataclass
class _Trained:
    """The controller after consuming a prefix of the trials (what :class:`ReinforceSearch` caches)."""

    controller: Controller
    optimizer: torch.optim.Optimizer
    codes: list[int] = field(default_factory=list)
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
        space: The search space (NB201: six decisions of five ops).
        candidates: Architectures the search may propose.

    Example:
        >>> search = ReinforceSearch(memory_buffer=16, seed=0)
        >>> result = run_search(search, [acc], budget=100, seed=0)
        >>> obs = Observations([t.arch for t in result.trials], result.values("acc")[:, None], np.zeros((100, 0)))
        >>> search.trained_controller(obs).hidden_states(np.array([a.ops for a in obs.archs]))  # (100, 64)
    """

    def __init__(self, learning_rate: float = 0.01, baseline_decay: float = 0.9, entropy_weight: float = 0.0,
                 memory_buffer: int = 0, penalty: float = 1.0, hidden_size: int = 64, seed: int = 0, *,
                 space: Space | None = None, candidates: Sequence[Arch] | None = None) -> None:
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
        codes = [a.code for a in obs.archs]
        trained = self._trained
        if trained is None or not self._continues(trained, codes, rewards):
            trained = self._fresh()
            self.replayed_ = []
        for index in range(len(trained.codes), len(codes)):
            self._update(trained, obs.archs, index, float(rewards[index]))
            trained.codes.append(codes[index])
            trained.rewards.append(float(rewards[index]))
        self._trained = trained
        return trained.controller

    @staticmethod
    def _continues(trained: _Trained, codes: list[int], rewards: np.ndarray) -> bool:
        done = len(trained.codes)
        return done <= len(codes) and trained.codes == codes[:done] and np.array_equal(
            np.asarray(trained.rewards, dtype=np.float64), rewards[:done], equal_nan=True)

    def _fresh(self) -> _Trained:
        controller = Controller(len(EDGES), len(OPS), self.hidden_size, self.seed)
        return _Trained(controller, torch.optim.Adam(controller.parameters(), lr=self.learning_rate))

    def _update(self, trained: _Trained, archs: list[Arch], index: int, reward: float) -> None:
        """One policy-gradient step on trial ``index`` (none for a failed trial), plus the buffer replay."""
        if not np.isfinite(reward):
            return
        decay = self.baseline_decay
        trained.ema_numerator = decay * trained.ema_numerator + (1 - decay) * reward
        trained.ema_denominator = decay * trained.ema_denominator + (1 - decay)
        advantage = reward - trained.ema_numerator / trained.ema_denominator
        log_p, entropy = trained.controller.log_prob(torch.as_tensor([archs[index].ops]))
        loss = -(log_p * advantage).sum() - self.entropy_weight * entropy.sum()
        replay: list[int] = []
        if self.memory_buffer and index > 0:
            draw = np.random.default_rng([self.seed, index])
            replay = sorted(draw.choice(index, size=min(self.memory_buffer, index), replace=False).tolist())
            loss = loss + self._memory_loss(trained.controller, [archs[i] for i in replay])
        self.replayed_.append(replay)
        trained.optimizer.zero_grad()
        loss.backward()
        trained.optimizer.step()

    @staticmethod
    def _memory_loss(controller: Controller, cells: list[Arch]) -> torch.Tensor:
        """Mean negative log-likelihood of past cells, teacher-forced (the supervised buffer loss)."""
        log_p, _ = controller.log_prob(torch.as_tensor([a.ops for a in cells]))
        return -log_p.mean()

    # -- proposals ------------------------------------------------------------------------

    def prepare(self, candidates: Sequence[Arch], known: np.ndarray | None = None) -> None:
        super().prepare(candidates, known)
        self._codes = np.array([a.code for a in self.candidates_], dtype=np.int64)

    def _ask(self, obs: Observations, n: int, rng: np.random.Generator, free: np.ndarray) -> list[Arch]:
        log_p = self.trained_controller(obs).log_prob_all().double().numpy()[self._codes[free]]
        keys = log_p + rng.gumbel(size=len(free))
        chosen = np.argsort(-keys, kind="stable")[:n]
        return [self.candidates_[free[i]] for i in chosen]
