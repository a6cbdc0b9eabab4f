"""Few-shot supernet: split the trained one-shot supernet on one edge's operation, fine-tune each part.

Few-shot NAS (Zhao et al., 2021) splits a one-shot supernet into one sub-supernet per operation
of one compound edge: each sub-supernet starts from the one-shot weights, has that edge fixed
to its operation and is fine-tuned with the same single-path sampling on the others; a cell is
then scored with the sub-supernet that matches its operation on the split edge. The paper
reports a better ranking than the one-shot supernet at the cost of the fine-tuning.

Here, on the supernets of ``fused_ranking.py`` (C=8 N=1, fair sampling, 30 epochs on the
cifar10-jpg train half; one per training seed, trained by ``supernet_ranking.py``):

1. load the seed's trained supernet, copy it once per operation of ``--edge`` (5 copies);
2. fine-tune each copy ``--epochs`` epochs (SGD, Nesterov momentum, cosine from ``--lr``; fair
   paths on the other edges, the split edge fixed);
3. score the same 1,000 canonical cells as the one-shot scores, each with its matching
   sub-supernet, exactly as the one-shot scores were made (BatchNorm recalibrated on 4 train
   batches, 1,024 valid images);
4. write the scores in the format of ``fused_ranking.py --dump-scores``, so that

    python benchmarks/supernet_few_shot.py --seed S
    python benchmarks/fused_ranking.py --supernet-scores runs/bench/fewshot/scores_seed{seed}.json \
        --label fewshot

   judges the few-shot supernet and the fusion built on it beside the one-shot results file
   (same cells, same seeds, same proxies and anchors). Truth is read by neither script
   before the judging step of ``fused_ranking.py``.

Fine-tuned sub-supernets and scores are kept under ``--work``: a rerun resumes.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _predictors_common import shared  # noqa: E402

from gcnas.data import RunStore, load_images  # noqa: E402
from gcnas.spaces.nb201 import EDGES, OPS, Arch, NB201Space  # noqa: E402
from gcnas.supernet import load_supernet, sample_subnets  # noqa: E402


def fair_paths(generator: torch.Generator, edge: int, op: int) -> list[Arch]:
    """``len(OPS)`` paths: every op of every other edge once (FairNAS), ``edge`` fixed to ``op``."""
    perms = torch.stack([torch.randperm(len(OPS), generator=generator) for _ in EDGES])
    perms[edge] = op
    return [Arch(tuple(int(i) for i in perms[:, step])) for step in range(len(OPS))]


def fine_tune(supernet: torch.nn.Module, data, *, edge: int, op: int, epochs: int, lr: float,
              batch_size: int, seed: int, steps_per_epoch: int | None = None) -> tuple[torch.nn.Module, float]:
    """A copy of ``supernet`` fine-tuned with ``edge`` fixed to ``op``; returns it and its seconds."""
    model = copy.deepcopy(supernet).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    steps = epochs * min(math.ceil(len(data.train) / batch_size), steps_per_epoch or math.inf)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    generator = torch.Generator().manual_seed(seed * 100 + op)
    queue: list[Arch] = []
    tick = time.perf_counter()
    for epoch in range(epochs):
        for x, y in data.train.batches(batch_size, shuffle=True, seed=seed * 1000 + op * 10 + epoch, augment=True,
                                       limit=steps_per_epoch):
            if not queue:
                queue = fair_paths(generator, edge, op)
            loss = F.cross_entropy(model(x, queue.pop(0)), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
            schedule.step()
    return model.eval(), time.perf_counter() - tick


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0, help="supernet training seed (its one-shot run must exist)")
    parser.add_argument("--edge", type=int, default=0, help=f"split edge, 0-{len(EDGES) - 1} in arch-string order")
    parser.add_argument("--epochs", type=int, default=3, help="fine-tuning epochs per sub-supernet")
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--steps-per-epoch", type=int, default=None, help="cap (a quick check of the script)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--num-cells", type=int, default=1000)
    parser.add_argument("--cell-seed", type=int, default=0)
    parser.add_argument("--score-images", type=int, default=1024)
    parser.add_argument("--score-batch", type=int, default=256)
    parser.add_argument("--one-shot", default="runs/bench/fused/sn-seed{seed}", help="the one-shot run's work folder")
    parser.add_argument("--work", default="runs/bench/fewshot")
    args = parser.parse_args()

    trains = sorted(Path(args.one_shot.format(seed=args.seed)).glob("train-*"))
    if not trains:
        raise SystemExit(f"no one-shot supernet under {args.one_shot.format(seed=args.seed)}: "
                         "train it with supernet_ranking.py (see fused_ranking.py)")
    trained = load_supernet(trains[-1])
    data = load_images("imagefolder", root=str(shared("images/cifar10-jpg")), image_size=32)
    archs = NB201Space().sample_many(max(args.num_cells, 1000), args.cell_seed, distinct=True,
                                     canonical=True)[:args.num_cells]
    work = Path(args.work) / f"seed{args.seed}-edge{args.edge}-ep{args.epochs}-lr{args.lr}"
    work.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(args.seed)
    tune_seconds: dict[str, float] = {}
    scores: dict[str, list[float]] = {}
    score_tick = time.perf_counter()
    for op, name in enumerate(OPS):
        state_file = work / f"sub-{name}.pt"
        if state_file.exists():
            model = copy.deepcopy(trained.supernet)
            model.load_state_dict(torch.load(state_file, weights_only=True))
            tune_seconds[name] = json.loads((work / f"sub-{name}.json").read_text())["seconds"]
        else:
            model, seconds = fine_tune(trained.supernet, data, edge=args.edge, op=op, epochs=args.epochs,
                                       lr=args.lr, batch_size=args.batch_size, seed=args.seed,
                                       steps_per_epoch=args.steps_per_epoch)
            torch.save(model.state_dict(), state_file)
            (work / f"sub-{name}.json").write_text(json.dumps({"seconds": seconds}))
            tune_seconds[name] = seconds
        print(f"sub-supernet {args.edge}={name}: fine-tuned in {tune_seconds[name]:.0f} s", flush=True)
        mine = [a for a in archs if a.ops[args.edge] == op]
        with RunStore(work / f"score-{name}") as store:
            samples = sample_subnets(store, model.eval(), data, num=len(mine), archs=mine, bn_recalibrate=4,
                                     batch_size=args.score_batch,
                                     limit=max(1, args.score_images // args.score_batch))
        scores.update({str(s.arch.code): [s.accuracy, s.loss] for s in samples})
    out = Path(args.work) / f"scores_seed{args.seed}.json"
    history = trained.history
    out.write_text(json.dumps({
        "scores": scores, "score_dir": str(work), "epochs": len(history) + args.epochs,
        "train_seconds": sum(r["seconds"] for r in history) + sum(tune_seconds.values()),
        "one_shot_train_seconds": sum(r["seconds"] for r in history),
        "fine_tune_seconds": tune_seconds, "split_edge": args.edge, "fine_tune_epochs": args.epochs,
        "score_span_seconds": time.perf_counter() - score_tick,
        "final_train_accuracy": history[-1]["accuracy"]}))
    print(f"{out}: {len(scores)} scores; fine-tuning {sum(tune_seconds.values()):.0f} s in all", flush=True)


if __name__ == "__main__":
    main()
