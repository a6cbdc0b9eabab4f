"""The results tables of README.md and docs/*.md, generated from ``benchmarks/results/*.json``.

Every row is a template here that formats the figures of a results file (written by the
benchmark through ``_results.py``); its command and machine come from that file, its goal is
the target the row states and "met" is computed from the figures. A row whose results file
does not exist says "not yet rerun" with the command that makes it: the README never shows
a number without a file.

The generated text sits between marker comments: ``<!-- results:begin -->`` /
``<!-- results:end -->`` in README.md, ``<!-- results:begin NAME -->`` /
``<!-- results:end NAME -->`` in docs/*.md (NAME: a table of :data:`DOC_TABLES`).

    python benchmarks/results_table.py            # print the README table
    python benchmarks/results_table.py --check    # exit 1 and show a diff where README/docs differ
    python benchmarks/results_table.py --write    # rewrite the generated blocks
"""

from __future__ import annotations

import argparse
import difflib
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import REPO, ResultsError, load_results  # noqa: E402

BLOCK = re.compile(r"(<!-- results:begin(?: (?P<name>[\w-]+))? -->\n)(?P<body>.*?)"
                   r"(<!-- results:end(?: (?P=name))? -->)", re.DOTALL)
CIFAR = "--data-root cifar10-jpg --latency nb201_latency_ms.csv:pixel3 --truth table:nb201_cifar10_200ep.csv:test_acc"
ABLATION = ("python benchmarks/supernet_ranking.py --channels 8 --epochs 30 --num-cells 500 --score-images 1024 "
            "--threads 1 --proxies ''")
# the command that writes each results file, shown while the file does not exist
RERUN = {
    "supernet_ranking-final-fair-c16-60ep": "python benchmarks/supernet_ranking.py --channels 16 --cells 1 --epochs 60 "
    "--sampling fair --num-cells 1000 --score-images 2048 --ks 100,200,500 --splits 2 --threads 1 "
    "--label final-fair-c16-60ep",
    "supernet_ranking-abl-code-c8-30ep": f"{ABLATION} --ks 100,200 --splits 2 --sampling code --label abl-code-c8-30ep",
    "supernet_ranking-abl-canonical-c8-30ep": f"{ABLATION} --ks 100,200 --splits 2 --sampling canonical "
    "--label abl-canonical-c8-30ep",
    "supernet_ranking-abl-fair-c8-30ep": f"{ABLATION} --ks 100,200 --splits 2 --sampling fair --label abl-fair-c8-30ep",
    "supernet_ranking-abl-fair-nonone-c8-30ep": f"{ABLATION} --ks 100,200 --splits 2 --sampling fair "
    "--exclude-ops none --label abl-fair-nonone-c8-30ep",
    "supernet_ranking-abl-fair-c8-30ep-bn0": f"{ABLATION} --ks '' --sampling fair --bn-recalibrate 0 "
    "--label abl-fair-c8-30ep-bn0",
    "supernet_ranking-abl-fair-c8-30ep-bn1": f"{ABLATION} --ks '' --sampling fair --bn-recalibrate 1 "
    "--label abl-fair-c8-30ep-bn1",
    "data_image_cache": "python benchmarks/data_image_cache.py",
    "data_natsbench": "python benchmarks/data_natsbench.py --num 40",
    "demo_pipeline-cifar10": f"python benchmarks/demo_pipeline.py --label cifar10 -- --dataset imagefolder {CIFAR}",
    "demo_pipeline-digits": "python benchmarks/demo_pipeline.py --label digits",
    "demo_pipeline-cifar10-fused-reduced": "python benchmarks/demo_pipeline.py --run runs/demo-cifar10-fused --label "
    f"cifar10-fused-reduced -- --dataset imagefolder {CIFAR} --epochs 10 --samples 200 --anchors 10",
    "space_canonical": "python benchmarks/space_canonical.py",
    "contention": "setsid python benchmarks/contention.py --policies gcnas",
    "contention-quick": "setsid python benchmarks/contention.py --quick --policies gcnas,torch-default",
    "supernet_network_check": "python benchmarks/supernet_network_check.py --num 50",
    "supernet_throughput": "python benchmarks/supernet_throughput.py",
    "supernet_entropy": "python benchmarks/supernet_entropy.py --epochs 10 --runs gaea,darts,darts-1level --gaea-lr 3 "
    "--darts-lr 0.03",
    "predictors_ranking": "python benchmarks/predictors_ranking.py --models gcn --sizes 100,1000 --seeds 5",
    "predictors_ranking-baselines": "python benchmarks/predictors_ranking.py --models gcn-plain,gbt,gp,mlp "
    "--sizes 100,1000 --seeds 5 --label baselines",
    "predictors_ranking-sizes": "python benchmarks/predictors_ranking.py --models gcn,gbt --sizes 50,200,500 --seeds 2 "
    "--label sizes",
    "predictors_ranking-seeds0-4": "python benchmarks/predictors_ranking.py --models gcn --sizes 100,1000 --seeds 5 "
    "--first-seed 0 --label seeds0-4",
    "predictors_proxy": "python benchmarks/predictors_proxy.py --sizes 100 --seeds 3",
    "predictors_latency": "python benchmarks/predictors_latency.py --sizes 100 --seeds 2",
    "latency_bounds": "python benchmarks/latency_bounds.py --seeds 2 --rounds 2",
    "space_darts_counts": "python benchmarks/space_darts_counts.py",
    "predictors_darts": "python benchmarks/predictors_darts.py --sizes 100,300 --seeds 5",
    "cli_startup": "python benchmarks/cli_startup.py",
    "search_zero_cost": "python benchmarks/search_zero_cost.py --seeds 100 --first-seed 200 --budget 150 --methods "
    "bo-arch2vec+stats,bo-arch2vec+stats+zc,bo-onehot+stats,bo-onehot+stats+zc",
    "predictors_zero_cost": "python benchmarks/predictors_zero_cost.py --sizes 100,1000 --seeds 5",
    "predictors_lut": "python benchmarks/predictors_lut.py --repeats 30",
    "encoders_arch2vec": "python benchmarks/encoders_arch2vec.py --save /tmp/arch2vec.pt",
    "encoders_arch2vec-darts": ("python benchmarks/encoders_arch2vec.py --space darts --label darts --sample-size 6000 "
                                "--epochs 8 --decision-weight 1.0 --train-check 1000 --prior-samples 200"),
    "encoders_arch2vec-darts-bins4": "python benchmarks/encoders_arch2vec.py --space darts --label darts-bins4 "
    "--sample-size 6000 --epochs 8 --decision-weight 1.0 --train-check 200 --prior-samples 200 --readout-bins 4",
    "encoders_arch2vec-darts-bins1": "python benchmarks/encoders_arch2vec.py --space darts --label darts-bins1 "
    "--sample-size 6000 --epochs 8 --decision-weight 1.0 --train-check 200 --prior-samples 200 --readout-bins 1",
    "search_single": "python benchmarks/search_single.py --seeds 20 --budget 150",
    "search_single-50seeds": "python benchmarks/search_single.py --seeds 50 --first-seed 500 --budget 150 --methods "
    "bo-arch2vec+stats,bo-onehot+stats,bo-arch2vec,bo-onehot --pairs "
    "bo-arch2vec+stats:bo-onehot+stats,bo-arch2vec:bo-onehot --label 50seeds",
    "search_multi-pixel3": "python benchmarks/search_multi.py --seeds 20 --first-seed 800 --budget 150 --methods "
    "bo-arch2vec+stats,bo-onehot+stats,evolution,random --scatter-methods bo-arch2vec+stats,evolution,random "
    "--pairs bo-arch2vec+stats:bo-onehot+stats",
    "search_multi-pixel3_energy": "python benchmarks/search_multi.py --seeds 20 --first-seed 800 --budget 150 --third "
    "energy --methods bo-arch2vec+stats,bo-onehot+stats,evolution,random --scatter-methods "
    "bo-arch2vec+stats,evolution,random --pairs bo-arch2vec+stats:bo-onehot+stats",
    "search_single-20seeds": "python benchmarks/search_single.py --seeds 20 --first-seed 700 --budget 150 --methods "
    "bo-arch2vec+stats,bo-onehot,evolution,random --pairs bo-arch2vec+stats:bo-onehot --label 20seeds",
    "search_step_time": "python benchmarks/search_step_time.py --repeats 2",
    "search_surrogate": "python benchmarks/search_surrogate.py",
    "hardware_latency": "python benchmarks/hardware_latency.py --num 200 --repeats 20",
    "hardware_energy": "python benchmarks/hardware_energy.py",
    "supernet_methods": "python benchmarks/supernet_methods.py",
    "supernet_methods-fused": "python benchmarks/supernet_methods.py --methods uniform+gcn,uniform+fused --plot '' "
    "--label fused",
    "fused_ranking": "python benchmarks/fused_ranking.py",
    "zero_cost_agreement": "python benchmarks/zero_cost_agreement.py --num-cells 120",
    "search_single-reinforce": "python benchmarks/search_single.py --seeds 20 --budget 150 --methods "
    "reinforce,reinforce-buffer64,evolution,random --label reinforce --pairs "
    "reinforce:evolution,reinforce-buffer64:reinforce",
    "search_single-latency8": "python benchmarks/search_single.py --seeds 20 --budget 150 --max-latency-ms 8 --methods "
    "reinforce,reinforce-rena,evolution,random --label latency8 --pairs "
    "reinforce-rena:reinforce,reinforce:evolution",
    "search_parallel": "python benchmarks/search_parallel.py --sleep 1 --budget 32 --seeds 2",
    "imc_truth": "python benchmarks/imc_truth.py",
    "supernet_darts_methods": "python benchmarks/supernet_darts_methods.py",
    "search_darts_latent": "python benchmarks/search_darts_latent.py",
    "supernet_darts-c8-30ep-score4096": "python benchmarks/supernet_darts.py --threads 1 --epochs 30 --score-images 4096 "
    "--score-batch 256 --label c8-30ep-score4096",
    "imc_ranking-score4096": "python benchmarks/imc_ranking.py --score-images 4096 --score-batch 256 --label score4096",
    "imc_search-score4096": "python benchmarks/imc_search.py --supernet-run runs/bench/imc_ranking/train-... "
    "--score-images 4096 --score-batch 256 --label score4096 --methods bo,evolution,random,reinforce",
    "encoders_arch2vec-imc": "python benchmarks/encoders_arch2vec.py --space imc --label imc --sample-size 6000 "
    "--holdout 0.05 --epochs 8 --train-check 200 --prior-samples 200",
    "search_multi-pixel3-reinforce": "python benchmarks/search_multi.py --seeds 20 --budget 150 --methods "
    "reinforce,evolution,random --scatter-methods reinforce,evolution,random --pairs reinforce:evolution "
    "--label pixel3-reinforce",
}


class Missing(Exception):
    """A results file that does not exist (yet)."""

    def __init__(self, stem: str) -> None:
        super().__init__(stem)
        self.stem = stem


class Record:
    """One results file: its figures by name (a missing name is an error), settings and provenance."""

    def __init__(self, stem: str, data: dict[str, Any]) -> None:
        self.stem = stem
        self.data = data
        self.settings: dict[str, Any] = data["settings"]
        self.figures: dict[str, Any] = data["figures"]

    def __getitem__(self, name: str) -> Any:
        if name not in self.figures:
            raise ResultsError(f"benchmarks/results/{self.stem}.json has no figure {name!r}: rerun its benchmark "
                               f"({self.data['command']}) or fix the template in results_table.py")
        return self.figures[name]

    def has(self, name: str) -> bool:
        return self.figures.get(name) is not None

    def where(self) -> str:
        """Machine, load average at start and commit, as the table cells show them."""
        m, git = self.data["machine"], self.data["git"]
        cores = m.get("logical_cores")
        cpu = m.get("cpu_model") or m.get("cpu")
        if cpu is None and cores is None:
            machine = "machine not recorded"
        else:
            machine = f"{cores}-core {cpu}" + ("" if m.get("gpu") is None else f", {m['gpu']}")
        load, end = m.get("loadavg_start"), m.get("loadavg_end")
        machine += f", load {load[0]:.1f}" if load else ", load not recorded"
        if load and end and abs(end[0] - load[0]) >= 1:  # a run that others joined (or left) while it ran
            machine += f" at the start, {end[0]:.1f} at the end"
        commit = git.get("commit")
        if commit:
            machine += f", commit {commit[:7]}" + ("+changes" if git.get("dirty") else "")
        return machine

    def command_cell(self) -> str:
        return f"`{portable_command(self.data['command'])}` ({self.where()})"


# absolute paths of the machine a benchmark ran on, as a reader's checkout names them
_SHARED_PATH = re.compile(r"(?<![\w$])/\S*?/shared/data/")
_REPO_PATH = re.compile(r"(?<![\w$])/\S*?/(?=(?:runs|docs|benchmarks)/)")


def portable_command(command: str) -> str:
    """``command`` with the running machine's absolute paths made relative to the checkout.

    Reference data becomes ``$GCNAS_SHARED_DATA/...`` and paths inside the checkout (``runs/``,
    ``docs/``, ``benchmarks/``) lose their prefix, so the same results file renders the same
    table wherever the repository is cloned.
    """
    return _REPO_PATH.sub("", _SHARED_PATH.sub("$GCNAS_SHARED_DATA/", command))


class Results:
    """Every results file of a folder, by stem (``supernet_ranking-final-fair-c16-60ep``)."""

    def __init__(self, folder: Path) -> None:
        self.records = {p.stem: Record(p.stem, load_results(p)) for p in sorted(folder.glob("*.json"))}

    def __call__(self, stem: str) -> Record:
        if stem not in self.records:
            raise Missing(stem)
        return self.records[stem]

    def has(self, stem: str) -> bool:
        return stem in self.records


def rerun(stem: str) -> str:
    return f"`{RERUN[stem]}`"


def yes(condition: bool) -> str:
    return "yes" if condition else "no"


def seeds_text(r: Record) -> str:
    first, count = int(r.settings.get("first_seed", 0)), int(r.settings["seeds"])
    return f"seeds {first}-{first + count - 1}" if count > 1 else f"seed {first}"


def table(header: list[str], rows: list[list[str]]) -> str:
    escape = lambda cell: str(cell).replace("|", "\\|")  # noqa: E731
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(escape(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


# -- README rows -----------------------------------------------------------------------------

@dataclass(frozen=True)
class ReadmeRow:
    """A README row: ``render`` gives (benchmark, ours, anchor, met) from the results.

    ``what`` is the benchmark cell while ``stem``'s file is missing; ``goal`` the target
    the row is judged by; the command cell is ``stem``'s command.
    """

    stem: str
    what: str
    goal: str
    render: Callable[[Results], tuple[str, str, str, str]]

    def cells(self, results: Results) -> list[str]:
        try:
            benchmark, ours, anchor, met = self.render(results)
            return [benchmark, ours, anchor, self.goal, met, results(self.stem).command_cell()]
        except Missing as missing:
            return [self.what, "not yet rerun", "-", self.goal, "-", rerun(missing.stem)]


README_ROWS: list[ReadmeRow] = []


def readme_row(stem: str, what: str, goal: str = "-"):
    def register(render: Callable[[Results], tuple[str, str, str, str]]):
        README_ROWS.append(ReadmeRow(stem, what, goal, render))
        return render
    return register


HEADLINE = "supernet_ranking-final-fair-c16-60ep"


@readme_row(HEADLINE, "one-shot ranking on real CIFAR-10 images (image folder) vs NAS-Bench-201 `test_acc`: Kendall "
            "tau of the supernet scores", "beat the parameter count")
def _supernet_headline(R: Results):
    r = R(HEADLINE)
    s = r.settings
    raw, params = r["supernet (all cells).kendall_tau"], r["params (all cells).kendall_tau"]
    return (f"one-shot ranking on real CIFAR-10 images (image folder), {r['num_cells']:,} canonical cells vs "
            f"NAS-Bench-201 `test_acc`: Kendall tau of the supernet scores (C={s['channels']}, N={s['cells']}, "
            f"{r['supernet_epochs']} epochs, {s['sampling']} sampling)",
            f"{raw:.3f} (true top 10%: {r['supernet (all cells).top10_kendall_tau']:.3f})",
            f"parameter count {params:.3f}; NASWOT {r['naswot (all cells).kendall_tau']:.3f}; synflow "
            f"{r['synflow (all cells).kendall_tau']:.3f} (same cells, same run)", yes(raw > params))


@readme_row(HEADLINE, "GCN fitted to 200 of those supernet scores, ranking the others (Kendall tau vs truth)",
            ">= raw + 0.05 and >= params + 0.05")
def _supernet_gcn(R: Results):
    r = R(HEADLINE)
    gcn, raw, params = (r[f"K=200: {name}.kendall_tau"] for name in ("GCN on 200 scores", "supernet", "params"))
    return (f"GCN fitted to 200 of those supernet scores, ranking the other {r['num_cells'] - 200:,} (Kendall tau vs "
            f"truth, {r.settings['splits']} splits)", f"{gcn:.3f}",
            f"raw supernet scores on the same cells {raw:.3f} ({gcn - raw:+.3f}); parameter count {params:.3f} "
            f"({gcn - params:+.3f})",
            f"above raw: {yes(gcn >= raw + 0.05)}; above params: {yes(gcn >= params + 0.05)}")


ABLATIONS = {"code": "supernet_ranking-abl-code-c8-30ep", "canonical": "supernet_ranking-abl-canonical-c8-30ep",
             "fair": "supernet_ranking-abl-fair-c8-30ep", "nonone": "supernet_ranking-abl-fair-nonone-c8-30ep",
             "bn0": "supernet_ranking-abl-fair-c8-30ep-bn0", "bn1": "supernet_ranking-abl-fair-c8-30ep-bn1"}


@readme_row(ABLATIONS["code"], "supernet training practices (sampling, the `none` op, BatchNorm recalibration): raw "
            "Kendall tau vs truth")
def _supernet_ablations(R: Results):
    tau = {k: R(stem)["supernet (all cells).kendall_tau"] for k, stem in ABLATIONS.items()}
    base = R(ABLATIONS["fair"])
    s = base.settings
    return (f"supernet training practices, C={s['channels']} N={s['cells']} {base['supernet_epochs']} epochs, "
            f"{base['num_cells']} cells: raw Kendall tau vs truth (six runs; the others' commands in docs/supernet.md)",
            f"fair sampling {tau['fair']:.3f} (default); canonical {tau['canonical']:.3f}; fair without `none` "
            f"{tau['nonone']:.3f}; BN recalibration 0 / 1 / {s['bn_recalibrate']} batches: {tau['bn0']:.3f} / "
            f"{tau['bn1']:.3f} / {tau['fair']:.3f}",
            f"uniform op codes (the usual single-path sampling) {tau['code']:.3f}", "-")


@readme_row("data_image_cache", "image folder of the CIFAR-10 JPEGs: cached load", "< 2 s")
def _image_cache(R: Results):
    r = R("data_image_cache")
    return (f"image folder of {r['train_images'] + r['test_images']:,} JPEGs: load from the decode cache",
            f"{r['cached_load_images_s']:.2f} s (`read_image_folder` {r['cached_read_s']:.2f} s)",
            f"first load (decoding): {r['first_read_s']:.1f} s", yes(r["cached_load_images_s"] < 2))


@readme_row("demo_pipeline-cifar10", "`gcnas demo` on the CIFAR-10 image folder with the NAS-Bench-201 truth (pixel3 "
            "latency): regret of the best pick under the median latency")
def _demo_cifar(R: Results):
    r = R("demo_pipeline-cifar10")
    return (f"`gcnas demo` on the CIFAR-10 image folder with the NAS-Bench-201 truth (pixel3 latency; "
            f"{r['command_wall_s'] / 60:.0f} min wall): regret of the best pick under the median latency "
            f"({r['truth.bound_ms']:.1f} ms)",
            f"{r['truth.best_pick.regret']:.2f} points (true {r['truth.best_pick.test_acc']:.2f} vs best "
            f"{r['truth.true_best.test_acc']:.2f})",
            f"the lookup table's top cell under the bound: {r['truth.lut_top.regret']:.2f}; the table over "
            f"{r['truth.GCN_lookup_table.n']:,} classes ranks at Kendall tau {r['truth.GCN_lookup_table.kendall_tau']:.3f} "
            f"(parameter count {r['truth.parameter_count.kendall_tau']:.3f}); random search with the same "
            f"{r['truth.random_search_evaluations']} supernet evaluations: {r['truth.random_search.regret']:.2f}", "-")


@readme_row("demo_pipeline-cifar10-fused-reduced", "`gcnas demo` on the CIFAR-10 image folder at reduced sizes, "
            "the fused ranking by default: the lookup table judged by the truth")
def _demo_cifar_fused(R: Results):
    r = R("demo_pipeline-cifar10-fused-reduced")
    return (f"`gcnas demo` on the CIFAR-10 image folder, reduced (supernet 10 epochs, 200 cells scored, 10 anchors; "
            f"{r['command_wall_s'] / 60:.0f} min wall), fused lookup table judged by test_acc",
            f"lookup table over all {r['truth.GCN_lookup_table.n']:.0f} classes: Kendall tau "
            f"{r['truth.GCN_lookup_table.kendall_tau']:.3f}; fused on the 200 scored cells "
            f"{r['truth.fused_ranking.kendall_tau']:.3f}; the table's top cell under the median latency "
            f"({r['truth.bound_ms']:.1f} ms): regret {r['truth.lut_top.regret']:.2f}",
            f"parameter count over all classes {r['truth.parameter_count.kendall_tau']:.3f}; on the scored cells: "
            f"supernet {r['truth.supernet_scores.kendall_tau']:.3f}, params {r['truth.params.kendall_tau']:.3f}, "
            f"NASWOT {r['truth.naswot.kendall_tau']:.3f}; the search's best pick {r['truth.best_pick.regret']:.2f}, "
            f"random search with the same {r['truth.random_search_evaluations']} evaluations "
            f"{r['truth.random_search.regret']:.2f}", "-")


@readme_row("space_canonical", "canonical classes of the 15,625 cells", "equal")
def _canonical(R: Results):
    r = R("space_canonical")
    return (f"canonical classes of the {r['cells']:,} cells", f"{r['canonical_classes']:,}",
            f"NAS-Bench-201 paper: {r['paper_classes']:,}", yes(r["canonical_classes"] == r["paper_classes"]))


@readme_row("supernet_network_check", "params / FLOPs / outputs vs the official implementation (xautodl), C=16 N=5",
            "exact")
def _network_check(R: Results):
    r = R("supernet_network_check")
    exact = r["equal_counts"] == r["archs"] == r["equal_params"] and r["max_logit_difference"] == 0
    return ("params / FLOPs vs the official implementation (xautodl), C=16 N=5, and logits with its weights loaded",
            f"identical for {r['equal_counts']}/{r['archs']} random cells ({r['all_conv3x3.params_m']:.6f} M / "
            f"{r['all_conv3x3.flops_m']:.2f} MFLOPs for all-conv3x3); max logit difference "
            f"{r['max_logit_difference']:.3g}", "`xautodl.utils.get_model_infos`, `infer.tiny`", yes(exact))


@readme_row("space_darts_counts", "DARTS space: params / FLOPs of the 725 NAS-Bench-301 cells vs the published "
            "columns", "exact (to the published rounding)")
def _darts_counts(R: Results):
    r = R("space_darts_counts")
    exact = r["params_match"] == r["flops_match"] == r["round_trip_exact"] == r["cells"]
    return (f"DARTS space: params / FLOPs of the {r['cells']} NAS-Bench-301 cells (C=32, 8 cells, search-network ops, "
            "torchstat rule) vs the published columns; genotype parse/format round trip",
            f"params {r['params_match']}/{r['cells']}, FLOPs {r['flops_match']}/{r['cells']} equal (largest relative "
            f"difference {max(r['params_max_rel_err'], r['flops_max_rel_err']):.1e}); round trip "
            f"{r['round_trip_exact']}/{r['cells']}"
            + (f"; {r['ms_per_cell']:.2f} ms per cell, {r['built.speedup']:.0f}x faster than building and tracing "
               f"the network ({r['built.equal']}/{r['built.cells']} equal)" if r.has("built.speedup") else ""),
            f"the DARTS CIFAR network (C=36, 20 cells): params "
            f"{r['contrast.darts_eval_C36_L20.params_median_rel_err']:+.0%} (median); NASLib's 16-channel graph "
            f"{r['contrast.naslib_C16_L8.params_median_rel_err']:+.0%}", yes(exact))


@readme_row("predictors_darts", "GCN on 100 of the 725 NAS-Bench-301 cells (`val_accuracy`), Kendall tau on the "
            "other 625", ">= 0.50")
def _darts_predictor(R: Results):
    r = R("predictors_darts")
    tau = r["gcn@100.kendall_tau.mean"]
    return ("DARTS space: GCN fitted to the `val_accuracy` of 100 of the 725 NAS-Bench-301 cells, Kendall tau on the "
            "others (5 splits, seeds 100-104)",
            f"{tau:.3f} ± {r['gcn@100.kendall_tau.std']:.3f} (K=300: {r['gcn@300.kendall_tau.mean']:.3f}); "
            f"+ zero-cost features {r['gcn+zc@100.kendall_tau.mean']:.3f}",
            f"GBT one-hot {r['gbt@100.kendall_tau.mean']:.3f}, + zero-cost {r['gbt+zc@100.kendall_tau.mean']:.3f}; "
            f"params {r['params@100.kendall_tau.mean']:.3f}, NASWOT {r['naswot@100.kendall_tau.mean']:.3f} (same "
            "splits); published XGBoost on 500-1,000 cells about 0.60", yes(tau >= 0.50))


@readme_row("search_darts", "DARTS space: BO finds the best of the 725 NAS-Bench-301 cells (`val_accuracy` as a "
            "table objective) within 100 queries", ">= 90% of seeds")
def _darts_search(R: Results):
    r = R("search_darts")
    found = r["bo-graph.found_fraction"]

    def share(method: str) -> str:
        median = r[f"{method}.median_queries_to_best"]
        return f"{100 * r[f'{method}.found_fraction']:.0f}%" + (f" (median {median:.0f})" if median <= 100 else "")

    return (f"DARTS space: BO finds the best of the {r['cells']} NAS-Bench-301 cells (`val_accuracy` as a table "
            f"objective, the cells as the candidate pool) within {r['budget']} queries, {r['seeds']} seeds 300-319",
            f"BO graph statistics {share('bo-graph')}; + counted params/FLOPs {share('bo-graph+costs')}",
            f"BO one-hot {share('bo-onehot')}; REINFORCE {share('reinforce')}; evolution {share('evolution')}; "
            f"random {share('random')} (same seeds)", yes(found >= 0.9))


@readme_row("search_darts_latent", "DARTS space, whole space: latent BO (arch2vec, exact decode) vs pool BO, "
            "evolution and random on a GCN surrogate of NAS-Bench-301")
def _search_darts_latent(R: Results):
    r = R("search_darts_latent")
    budget = r["budget"]
    names = {"latent-bo": "latent BO (352-number embedding, exact decode)", "latent-bo-mean": "latent BO, one mean "
             "per graph (32 numbers, decode 0%)", "bo-graph+costs": "BO graph statistics + counted costs (pool)",
             "bo-arch2vec-mean": "BO over arch2vec's node means per graph (pool, no decoding)",
             "evolution": "evolution", "random": "random"}
    found = [m for m in names if r.has(f"{m}.median_incumbent_at_50")]

    def at(m: str) -> str:
        return f"{names[m]} {r[f'{m}.median_incumbent_at_50']:.2f} ({r[f'{m}.seconds_per_run']:.0f} s a run)"
    ours = [m for m in found if "arch2vec" in m or m.startswith("latent")]
    return (f"DARTS space, searched whole (no pool of known cells): median best surrogate value after 50 of "
            f"{budget} queries, {r['seeds']} {seeds_text(r)}; the surrogate is a GCN fitted to the 725 NAS-Bench-301 "
            "cells' `val_accuracy` (it judges the searchers; none reads it)",
            "; ".join(at(m) for m in ours),
            "; ".join(at(m) for m in found if m not in ours) + f" (same seeds); the surrogate's best of the 725 "
            f"{r['surrogate.file_best']:.2f}, of {r.settings['random_reference']:,} random genotypes "
            f"{r['surrogate.random_best']:.2f}", "-")


@readme_row("supernet_darts-c8-30ep-score4096", "DARTS space: supernet trained on the CIFAR-10 image folder, "
            "Kendall tau vs the 725 NAS-Bench-301 cells' val_accuracy")
def _supernet_darts(R: Results):
    r = R("supernet_darts-c8-30ep-score4096")
    s = r.settings
    ks = [int(x) for x in str(s["ks"]).split(",") if x]
    return (f"DARTS space: weight-sharing supernet (C={s['channels']}, {s['cells']} cells, {s['image_size']}x"
            f"{s['image_size']} images, {r['supernet_epochs']} epochs of the CIFAR-10 image folder's train half, "
            f"{s['strategy']} single-path sampling, {r['train_seconds_total'] / 60:.0f} min of training) scoring the "
            f"{r['num_cells']} NAS-Bench-301 genotypes on {s['score_images']:,} valid images each: Kendall tau vs "
            f"`val_accuracy`",
            f"supernet {r['supernet (all cells).kendall_tau']:.3f} (its loss {r['supernet -loss (all cells).kendall_tau']:.3f}); "
            + "; ".join(f"GCN fitted to {k} of its scores, on the other {r['num_cells'] - k}: "
                        f"{r[f'K={k}: GCN on {k} scores.kendall_tau']:.3f} (supernet on the same cells "
                        f"{r[f'K={k}: supernet.kendall_tau']:.3f})" for k in ks),
            f"params {r['params (all cells).kendall_tau']:.3f}; NASWOT {r['naswot (all cells).kendall_tau']:.3f} "
            "(published values, same cells)", "-")


@readme_row("supernet_darts_methods", "DARTS space: GAEA, DARTS and NASP at CPU scale, the derived genotype's params "
            "and predicted accuracy")
def _supernet_darts_methods(R: Results):
    r = R("supernet_darts_methods")
    s = r.settings
    methods = [m for m in ("gaea", "darts", "nasp", "snas") if r.has(f"{m}.params_m")]

    def method(m: str) -> str:
        outside = " (more params than any fitted cell: an extrapolation)" if (
            r[f"{m}.params_m"] > r["nb301.params_max"]) else ""
        return (f"{m.upper()} {r[f'{m}.params_m']:.3f} M, predicted {r[f'{m}.predicted_acc']:.2f}{outside}, above "
                f"{r[f'{m}.predicted_percentile']:.1f}% of random genotypes, {r[f'{m}.normal_param_free_ops']:g} "
                "parameter-free ops in the normal cell")
    return (f"DARTS space: GAEA (bilevel), DARTS (1st order) and NASP on the CIFAR-10 image folder at CPU scale "
            f"(C={s['channels']}, {s['cells']} cells, {s['image_size']}x{s['image_size']} images, {r['epochs']} epochs "
            f"of {r['train_images']:,} images, seed 0): params of the derived genotype (NAS-Bench-301 shape) and its "
            "accuracy as predicted by a GCN fitted to all 725 NAS-Bench-301 cells (no truth exists for a new cell)",
            "; ".join(method(m) for m in methods),
            f"{r['random.cells']:,} random genotypes: predicted median {r['random.predicted_median']:.2f}, 90th "
            f"percentile {r['random.predicted_p90']:.2f}, params median {r['random.params_median']:.3f} M; the "
            f"725 cells: predicted max {r['nb301.predicted_max']:.2f}, params {r['nb301.params_min']:.3f}-"
            f"{r['nb301.params_max']:.3f} M", "-")


@readme_row("imc_truth", "IMC macro space: sampled networks trained from scratch on the CIFAR-10 image folder "
            "(the truth the space's other rows are judged by)", ">= 60 networks")
def _imc_truth(R: Results):
    r = R("imc_truth")
    s = r.settings
    return (f"IMC macro space: {r['num_networks']} networks drawn uniformly and trained from scratch on the CIFAR-10 "
            f"image folder (C={s['channels']}, {s['image_size']}x{s['image_size']} images, {s['epochs']} epochs of "
            f"{s['train_images']:,} images; `benchmarks/results/imc_truth.csv`)",
            f"test accuracy {r['test_accuracy_mean']:.1f} ± {r['test_accuracy_std']:.1f} "
            f"({r['test_accuracy_min']:.1f}-{r['test_accuracy_max']:.1f}); "
            f"{r['train_seconds_total'] / 60:.0f} min of training", "-", yes(r["num_networks"] >= 60))


@readme_row("imc_ranking-score4096", "IMC macro space: Kendall tau vs the truth networks' test accuracy",
            "GCN above params")
def _imc_ranking(R: Results):
    r = R("imc_ranking-score4096")
    gcn = next(k for k in r.data["figures"] if k.startswith("GCN on ") and k.endswith(".kendall_tau"))
    params = r["params.kendall_tau"]
    return (f"IMC macro space: Kendall tau vs the test accuracy of the {r['num_truth']} truth networks (elastic "
            f"supernet C={r.settings['channels']}, {r['supernet_epochs']} epochs, uniform sampling, each network "
            f"scored on {r.settings['score_images']:,} valid images)",
            f"supernet {r['supernet.kendall_tau']:.3f}; GCN fitted to the scores of {r['pool']} other networks "
            f"{r[gcn]:.3f}",
            f"params {params:.3f}; FLOPs {r['flops.kendall_tau']:.3f}; NASWOT {r['naswot.kendall_tau']:.3f} "
            f"(same networks)", yes(r[gcn] > params))


@readme_row("imc_search-score4096", "IMC macro space: hypervolume of the picks' true accuracy x IMC latency, BO vs "
            "evolution and random", "BO above random and evolution")
def _imc_search(R: Results):
    r = R("imc_search-score4096")
    hv = {m: r[f"{m}.hv_true_median"] for m in ("bo", "evolution", "random")}
    return (f"IMC macro space: hypervolume of true test accuracy x IMC latency of the {r.settings['picks']} front "
            f"networks each search picks (trained from scratch) after {r['budget']} supernet queries, median over "
            f"{r['seeds']} {seeds_text(r)}",
            f"BO {hv['bo']:.0f} (above evolution on {r['bo_above_evolution_seeds']}/{r['seeds']} seeds, above random "
            f"on {r['bo_above_random_seeds']}/{r['seeds']})",
            f"evolution {hv['evolution']:.0f}; random {hv['random']:.0f}"
            + (f"; REINFORCE (rewarded by accuracy alone) {r['reinforce.hv_true_median']:.0f}, BO above it on "
               f"{r['bo_above_reinforce_seeds']}/{r['seeds']}" if r.has("reinforce.hv_true_median") else "")
            + f" (same seeds; reference: 10% accuracy, {r['reference_latency_ms']:.1f} ms)",
            yes(hv["bo"] > hv["evolution"] and hv["bo"] > hv["random"]))


@readme_row("encoders_arch2vec-imc", "arch2vec on IMC macro networks: the same round trip", ">= 99.5%")
def _a2v_round_trip_imc(R: Results):
    r = R("encoders_arch2vec-imc")
    exact, count = r["roundtrip.exact_search"], r["roundtrip.count"]
    return ("arch2vec on IMC macro networks (up to 73-node layer graphs, position-aware readout): held-out networks "
            "back from their graph-level embedding", f"{exact:.2%} ({round(exact * count):,}/{count:,})",
            f"decision decoder alone {r['roundtrip.exact_decoder']:.2%}; one mean readout (arch2vec's): 0% on a "
            "short run (docs/encoders.md)", yes(exact >= 0.995))


@readme_row("cli_startup", "`gcnas` start-up: lut query, search trials, arch show, --help (median of 10 fresh "
            "processes)", "< 1 s each")
def _cli_startup(R: Results):
    r = R("cli_startup")
    names = (("lut_query", "lut query"), ("search_trials", "search trials"), ("arch_show", "arch show"),
             ("help", "--help"))
    return ("`gcnas` start-up to exit, median of 10 fresh processes each, on a small run",
            "; ".join(f"{label} {r[f'{key}.now_s']:.2f} s" for key, label in names),
            "before the lazy imports (commit " + str(r.settings.get("baseline", "?")) + ", same run): "
            + "; ".join(f"{label} {r[f'{key}.baseline_s']:.2f} s ({r[f'{key}.speedup']:.1f}x)" for key, label in names),
            yes(r["slowest_now_s"] < 1.0))


@readme_row("search_zero_cost", "BO with zero-cost features (params, FLOPs, synflow) finds CIFAR-10's best-valid "
            "cell: queries", "median <= 25; <= 100 on >= 95% of seeds")
def _search_zero_cost(R: Results):
    r = R("search_zero_cost")
    base, zc = "bo-arch2vec+stats", "bo-arch2vec+stats+zc"
    pair = f"pair.{zc}:{base}"
    met = r[f"{zc}.median"] <= 25 and r[f"{zc}.within100"] >= 0.95
    return (f"BO finds CIFAR-10's best-valid cell, {r['seeds']} held-out seeds ({r['first_seed']}-"
            f"{r['first_seed'] + r['seeds'] - 1}), budget {r['budget']}: queries with zero-cost features (`+zc`)",
            f"arch2vec+stats+zc median {r[f'{zc}.median']:g}, within 100 on {r[f'{zc}.within100']:.0%}; "
            f"onehot+stats+zc median {r['bo-onehot+stats+zc.median']:g}",
            f"without zc (same seeds): arch2vec+stats median {r[f'{base}.median']:g}, within 100 on "
            f"{r[f'{base}.within100']:.0%}; zc sooner on {r[f'{pair}.wins']:g} seeds, later on "
            f"{r[f'{pair}.losses']:g} (sign test p = {r[f'{pair}.p']:.2f})", yes(met))


@readme_row("predictors_zero_cost", "GCN with zero-cost features (params, FLOPs, synflow) as graph-level inputs, "
            "Kendall tau @100 / @1000", ">= 0.80 / >= 0.88")
def _predictors_zero_cost(R: Results):
    r = R("predictors_zero_cost")
    zc100, zc1000 = r["gcn+zc@100.kendall_tau.mean"], r["gcn+zc@1000.kendall_tau.mean"]
    return ("GCN with zero-cost features (log params, log FLOPs, synflow) beside the graph, train on valid_acc of K, "
            "Kendall tau vs test_acc on the rest, seeds 100-104",
            f"K=100: {zc100:.3f} ± {r['gcn+zc@100.kendall_tau.std']:.3f}; K=1000: {zc1000:.3f} ± "
            f"{r['gcn+zc@1000.kendall_tau.std']:.3f}",
            f"the same GCN without them (same splits): {r['gcn@100.kendall_tau.mean']:.3f} / "
            f"{r['gcn@1000.kendall_tau.mean']:.3f}; ceiling (valid_acc itself) 0.891", yes(zc100 >= 0.80 and zc1000 >= 0.88))


STRATEGIES = ("uniform", "gaea", "darts", "snas")
STRATEGY_NAMES = {"uniform": "uniform", "gaea": "GAEA", "darts": "DARTS", "snas": "SNAS"}


@readme_row("supernet_throughput", "supernet training step, images/s ours / official xautodl supernet (C=16, N=5, "
            "batch 64, CPU)", ">= 1.5x")
def _throughput(R: Results):
    r = R("supernet_throughput")
    s = r.settings
    done = [x for x in STRATEGIES if r.has(f"{x}.ratio")]
    return (f"supernet training step, images/s ours / official xautodl supernet (C={s['channels']}, N={s['cells']}, "
            f"batch {s['batch_size']}, CPU, {s['threads']} thread)",
            ", ".join(f"{STRATEGY_NAMES[x]} {r[f'{x}.ratio']:.2f}x" for x in done),
            "xautodl `TinyNetworkRANDOM` / `TinyNetworkDarts`", yes(all(r[f"{x}.ratio"] >= 1.5 for x in done)))


@readme_row("supernet_entropy", "GAEA vs DARTS sparsity on digits: entropy / max weight per edge",
            "GAEA sparser than DARTS and near one-hot (max weight >= 0.9)")
def _entropy(R: Results):
    r = R("supernet_entropy")
    sparser = r["gaea.entropy"] < r["darts.entropy"]
    one_hot = r["gaea.max_weight"] >= 0.9
    met = "yes" if sparser and one_hot else ("partly: sparser than DARTS, not one-hot" if sparser else "no")
    return (f"GAEA vs DARTS sparsity on digits ({r['epochs']} epochs): entropy / max weight per edge",
            f"GAEA {r['gaea.entropy']:.2f} / {r['gaea.max_weight']:.2f}",
            f"DARTS {r['darts.entropy']:.2f} / {r['darts.max_weight']:.2f} (uniform: {r['uniform_entropy']:.3f} / "
            f"{math.exp(-r['uniform_entropy']):.1f})",
            met)


def _mean_std(r: Record, key: str, metric: str = "kendall_tau") -> str:
    return f"{r[f'{key}.{metric}.mean']:.3f} ± {r[f'{key}.{metric}.std']:.3f}"


@readme_row("predictors_ranking", "GCN predictor, Kendall tau (train on valid_acc of K, rank the rest by test_acc)",
            ">= 0.75 / >= 0.82")
def _predictor_ranking(R: Results):
    r = R("predictors_ranking")
    tuned = ", seed 0 was used to tune the GCN" if r["tuning_seeds_used"] else ", none used to tune the GCN"
    try:
        b = R("predictors_ranking-baselines")
        anchor = (f"plain 3-layer GCN {b['gcn-plain@100.kendall_tau.mean']:.3f} / "
                  f"{b['gcn-plain@1000.kendall_tau.mean']:.3f}; GBT {b['gbt@100.kendall_tau.mean']:.3f} / "
                  f"{b['gbt@1000.kendall_tau.mean']:.3f}; GP {b['gp@100.kendall_tau.mean']:.3f}; MLP "
                  f"{b['mlp@100.kendall_tau.mean']:.3f} ({seeds_text(b)}); ceiling {b['ceiling_kendall_tau']:.3f}")
    except Missing:
        anchor = f"baselines not yet rerun: {rerun('predictors_ranking-baselines')}"
        if r.has("ceiling_kendall_tau"):
            anchor = f"ceiling (valid_acc itself) {r['ceiling_kendall_tau']:.3f}; {anchor}"
    return (f"GCN predictor, Kendall tau (train on valid_acc of K, rank the rest by test_acc), "
            f"{r['gcn@100.n']} {seeds_text(r)}{tuned}",
            f"K=100: {_mean_std(r, 'gcn@100')}; K=1000: {_mean_std(r, 'gcn@1000')}", anchor,
            yes(r["gcn@100.kendall_tau.mean"] >= 0.75 and r["gcn@1000.kendall_tau.mean"] >= 0.82))


LATENCY_DEVICES = ("1080ti_1", "fpga", "eyeriss", "gold_6240", "pixel3")


@readme_row("predictors_latency", "GCN latency predictor, share within ±10% (K=100)", ">= 90%")
def _latency_predictor(R: Results):
    r = R("predictors_latency")
    done = [d for d in LATENCY_DEVICES if r.has(f"{d}@100.gcn_within_10.mean")]
    gcn = {d: r[f"{d}@100.gcn_within_10.mean"] for d in done}
    line = {d: r[f"{d}@100.flops_within_10.mean"] for d in done}
    return (f"GCN latency predictor, share within ±10% (K=100, {seeds_text(r)})",
            ", ".join(f"{d} {gcn[d]:.1%}" for d in done),
            "FLOPs-line fit: " + ", ".join(f"{d} {line[d]:.1%}" for d in done),
            f"{sum(gcn[d] >= 0.9 for d in done)} of {len(done)} devices")


BOUND_DEVICES = ("gold_6240", "1080ti_1", "pixel3", "fpga", "eyeriss")


def _bound_stage(r: Record, stage: str) -> tuple[dict[str, float], dict[str, float], list[str]]:
    """Per device: picks truly within the bound (mean over seeds), best truly-within pick's gap."""
    done = [d for d in BOUND_DEVICES if r.has(f"{d}.{stage}.within.mean")]
    return ({d: r[f"{d}.{stage}.within.mean"] for d in done}, {d: r[f"{d}.{stage}.gap_best.mean"] for d in done}, done)


@readme_row("latency_bounds", "latency bound at 90% confidence: top-10 picks truly within it (300 measured cells)",
            ">= 9 of 10 within on every device; best pick <= 0.5 below the best feasible")
def _latency_bounds(R: Results):
    r = R("latency_bounds")
    within, gap, done = _bound_stage(r, "conf")
    point_within, point_gap, _ = _bound_stage(r, "point")
    each_within, _, _ = _bound_stage(r, "each")
    oracle = {d: r[f"{d}.oracle.gap_best"] for d in done}
    rounds = int(r.settings["rounds"])
    last = _bound_stage(r, f"round{rounds}") if rounds else None
    num = lambda v: "-" if v is None else f"{v:.2f}"  # noqa: E731
    ours = "; ".join(f"{d} {within[d]:.1f} (gap {num(gap[d])})" for d in done)
    if last:
        ours += (f"; after {rounds} measure-next rounds of {r.settings['per_round']}: "
                 + ", ".join(f"{d} {last[0][d]:.1f} ({num(last[1][d])})" for d in done))
    met_within = all(r[f"{d}.conf.min_within"] >= 9 for d in done)
    met_gap = all(gap[d] is not None and gap[d] <= 0.5 for d in done)
    met_rounds = last and all(last[1][d] is not None and last[1][d] <= 0.5 for d in done)
    return (f"latency bound = 10th percentile of each device, top-10 by valid_acc under it at 90% confidence, judged "
            f"by the true latency and test_acc; 300 random measured cells ({seeds_text(r)}), mean over seeds",
            ours,
            "point estimate (today): " + ", ".join(f"{d} {point_within[d]:.1f} ({num(point_gap[d])})" for d in done)
            + "; each pick's own 90% upper end: " + ", ".join(f"{d} {each_within[d]:.1f}" for d in done)
            + "; perfect latency knowledge, gap: " + ", ".join(f"{d} {oracle[d]:.2f}" for d in done),
            f"within: {yes(met_within)} (every seed); gap: {yes(met_gap)}, after the rounds: {yes(bool(met_rounds))}")


TOPK = ("top10", "top10_latency", "top10_three_bounds", "top10_four_bounds")
PARETO = ("pareto_all", "pareto_params")


@readme_row("predictors_lut", "lookup table over 15,625 cells: build / top-k query / Pareto query", "< 10 s / < 10 ms")
def _lut(R: Results):
    r = R("predictors_lut")
    topk = [r[f"{q}.query_ms"] for q in TOPK]
    pareto = [r[f"{q}.query_ms"] for q in PARETO]
    scan = [r[f"{q}.scan_ms"] for q in TOPK]
    speed = [r[f"{q}.speedup"] for q in TOPK]
    fitted = "a GCN fitted on 100 archs in the run" if r.settings.get("predictor") is None else "a saved predictor"
    return (f"lookup table over 15,625 cells ({fitted}): build / top-k query / Pareto query",
            f"{r['build_median_s']:.2f} s / {min(topk):.2f}-{max(topk):.2f} ms / "
            f"{min(pareto):.1f}-{max(pareto):.1f} ms",
            f"full-table scan in Python: {min(scan):.0f}-{max(scan):.0f} ms ({min(speed):.0f}-{max(speed):.0f}x slower "
            "top-k)", yes(r["build_median_s"] < 10 and max(topk + pareto) < 10))


@readme_row("encoders_arch2vec", "arch2vec: held-out cells reconstructed exactly", ">= 99.5%")
def _a2v_reconstruction(R: Results):
    r = R("encoders_arch2vec")
    exact = r["heldout.exact"]
    return ("arch2vec: held-out cells reconstructed exactly",
            f"{exact:.1%} ({round(exact * r['heldout.count']):,} / {r['heldout.count']:,})",
            f"train cells: {r['train.exact']:.1%}", yes(exact >= 0.995))


@readme_row("encoders_arch2vec", "arch2vec: held-out NAS-Bench-201 cells back from their graph-level embedding "
            "(what latent BO decodes)", ">= 99.5%")
def _a2v_round_trip(R: Results):
    r = R("encoders_arch2vec")
    exact, count = r["roundtrip.exact_search"], r["roundtrip.count"]
    return ("arch2vec: held-out NAS-Bench-201 cells back from their graph-level embedding, the vector latent BO "
            "searches (decision decoder, then a search on latent distance)",
            f"{exact:.2%} ({round(exact * count):,}/{count:,})",
            f"decision decoder alone {r['roundtrip.exact_decoder']:.2%}; before this release 97.05% (node by node)",
            yes(exact >= 0.995))


@readme_row("encoders_arch2vec-darts", "arch2vec on DARTS genotypes: the same round trip", ">= 99.5%")
def _a2v_round_trip_darts(R: Results):
    r = R("encoders_arch2vec-darts")
    exact, count = r["roundtrip.exact_search"], r["roundtrip.count"]
    one_mean, four = R("encoders_arch2vec-darts-bins1"), R("encoders_arch2vec-darts-bins4")
    dim = 2 * 11 * r.settings["latent_dim"]
    return (f"arch2vec on DARTS genotypes (normal + reduce graphs of 11 nodes): held-out cells back from their "
            f"graph-level embedding, default readout (one stretch per node: {dim} numbers)",
            f"{exact:.2%} ({round(exact * count):,}/{count:,}); decision decoder alone {r['roundtrip.exact_decoder']:.2%}",
            f"one mean per graph (32 numbers) {one_mean['roundtrip.exact_search']:.2%}; 4 stretches "
            f"{four['roundtrip.exact_search']:.2%}", yes(exact >= 0.995))


@readme_row("encoders_arch2vec", "arch2vec: pretraining the whole space", "< 180 s")
def _a2v_time(R: Results):
    r = R("encoders_arch2vec")
    seconds = r["fit_seconds"]
    return (f"arch2vec: pretraining the whole space ({r.settings['epochs']} epochs, {r.settings['threads']} thread)",
            "not timed (--load)" if seconds is None else f"{seconds:.1f} s (`fit`)", "—",
            "-" if seconds is None else yes(seconds < 180))


@readme_row("encoders_arch2vec", "arch2vec: mean |test acc difference| to the nearest neighbours",
            "smoother than one-hot")
def _a2v_smooth(R: Results):
    r = R("encoders_arch2vec")
    ours, onehot = r["smooth.arch2vec.mean"], r["smooth.onehot.mean"]
    return (f"arch2vec: mean |test acc difference| to {r['smooth.k']} nearest neighbours", f"{ours:.2f}",
            f"one-hot space {onehot:.2f}; random pairs {r['smooth.random.mean']:.2f}", yes(ours < onehot))


@readme_row("search_single", "BO, single objective (search valid_acc, report test_acc), median at 25 / 50 / 100 "
            "queries", ">= 94.30 at 50")
def _search_single(R: Results):
    r = R("search_single")

    def at(method: str) -> str:
        return " / ".join(f"{r[f'{method}.test@{n}']:.2f}" for n in (25, 50, 100))
    return (f"BO, single objective (search valid_acc, report test_acc), median at 25 / 50 / 100 queries, "
            f"{r['seeds']} {seeds_text(r)}",
            f"BO arch2vec+stats (default) {at('bo-arch2vec+stats')}; BO one-hot {at('bo-onehot')}",
            f"evolution {at('evolution')}, random {at('random')} (same seeds); optimum {r['optimum']:.2f}",
            yes(r["bo-arch2vec+stats.test@50"] >= 94.30))


@readme_row("search_single", "BO finds the best-valid cell within 100 queries", ">= 90% of seeds")
def _search_found(R: Results):
    r = R("search_single")
    q = "queries_to_best (median)"
    return (f"BO finds the best-valid cell (test {r['optimum']:.2f}) within 100 queries, {r['seeds']} {seeds_text(r)}",
            f"arch2vec+stats {r['bo-arch2vec+stats.found<=100']:.0%} (median {r[f'bo-arch2vec+stats.{q}']:.1f} "
            f"queries), arch2vec {r['bo-arch2vec.found<=100']:.0%}, one-hot {r['bo-onehot.found<=100']:.0%} "
            f"({r[f'bo-onehot.{q}']:.1f}), one-hot+stats {r['bo-onehot+stats.found<=100']:.0%}",
            f"evolution {r['evolution.found<=100']:.0%}, random {r['random.found<=100']:.0%}",
            yes(r["bo-arch2vec+stats.found<=100"] >= 0.9))


@readme_row("search_single-50seeds", "BO arch2vec ahead of BO one-hot: seeds where it finds the best-valid cell "
            "sooner / later (sign test)", "ahead (p < 0.05)")
def _search_pairs(R: Results):
    r = R("search_single-50seeds")

    def pair(a: str, b: str) -> tuple[str, bool]:
        key = f"pair.{a}:{b}"
        return (f"{r[key + '.wins']} / {r[key + '.losses']} (p = {r[key + '.p']:.3f})",
                r[key + ".wins"] > r[key + ".losses"] and r[key + ".p"] < 0.05)
    stats, stats_ok = pair("bo-arch2vec+stats", "bo-onehot+stats")
    raw, raw_ok = pair("bo-arch2vec", "bo-onehot")
    return (f"BO arch2vec ahead of BO one-hot: seeds where it finds the best-valid cell sooner / later, "
            f"{r['seeds']} {seeds_text(r)}", f"+stats {stats}; raw {raw}", "one-hot features, same seeds (sign test)",
            f"+stats: {yes(stats_ok)}; raw: {yes(raw_ok)}")


@readme_row("search_single-50seeds", "BO finds CIFAR-10's best-valid cell, 50 held-out seeds: median queries, "
            "share within 100", "median <= 25; <= 100 on >= 95% of seeds")
def _search_50_found(R: Results):
    r = R("search_single-50seeds")
    q = "queries_to_best (median)"
    methods = [m for m in ("bo-arch2vec+stats", "bo-arch2vec", "bo-onehot+stats", "bo-onehot") if r.has(f"{m}.{q}")]
    text = "; ".join(f"{m[3:]} median {r[f'{m}.{q}']:g}, within 100 on {r[f'{m}.found<=100']:.0%}" for m in methods)
    best = r["bo-arch2vec+stats." + q]
    return (f"BO finds CIFAR-10's best-valid cell (budget {r.settings['budget']}), {r['seeds']} {seeds_text(r)}, "
            "none used for tuning: queries until it is evaluated", text, "-",
            yes(best <= 25 and r["bo-arch2vec+stats.found<=100"] >= 0.95))


@readme_row("search_single-20seeds", "BO, single objective, 20 held-out seeds: test accuracy at 25 / 50 queries, "
            "share that finds the best-valid cell within 100 and median queries to it", "median <= 25; <= 100 on >= 95% of seeds")
def _search_20_found(R: Results):
    r = R("search_single-20seeds")
    q = "queries_to_best (median)"

    def method(name: str) -> str:
        budget = r.settings["budget"]
        median = r[f"{name}.{q}"]
        median_text = f"{median:g}" if median <= budget else f"not found in {budget}"
        return (f"{r[f'{name}.test@25']:.2f} / {r[f'{name}.test@50']:.2f}, within 100 on "
                f"{r[f'{name}.found<=100']:.0%} (median {median_text})")
    others = [m for m in ("evolution", "random") if r.has(f"{m}.{q}")]
    return (f"BO, single objective (search valid_acc, report test_acc; budget {r.settings['budget']}), {r['seeds']} "
            f"{seeds_text(r)}, none used for tuning: median test accuracy at 25 / 50 queries, share that evaluates "
            f"the best-valid cell within 100 (median queries until it does)",
            f"BO arch2vec+stats {method('bo-arch2vec+stats')}; BO one-hot {method('bo-onehot')}",
            "; ".join(f"{m} {method(m)}" for m in others) + f" (same seeds); optimum {r['optimum']:.2f}",
            yes(r["bo-arch2vec+stats." + q] <= 25 and r["bo-arch2vec+stats.found<=100"] >= 0.95))


STEP_NAMES = {"single": "one objective", "multi": "two modelled (qLogNEHVI)", "known": "latency known (Pareto "
              "probability)", "three": "latency + energy known"}


@readme_row("search_step_time", "BO step time, 150 observations over 15,625 candidates (wall s)", "< 1 s")
def _step_time(R: Results):
    r = R("search_step_time")
    done = [k for k in STEP_NAMES if r.has(f"{k}.ours_wall_s")]
    ours = "; ".join(f"{STEP_NAMES[k]} {r[f'{k}.ours_wall_s']:.2f} (CPU {r[f'{k}.ours_cpu_s']:.2f})" for k in done)
    same = [k for k in ("single", "multi") if k in done and r.has(f"{k}.plain_wall_s")]
    anchor = ("plain BoTorch step, same acquisition, fresh fit, every candidate: " + "; ".join(
        f"{STEP_NAMES[k]} {r[f'{k}.plain_wall_s']:.2f} s ({r[f'{k}.plain_cpu_ratio']:.1f}x in CPU time)" for k in same))
    if "known" in done and r.has("known.plain_wall_s"):
        anchor += (f". Latency known: plain qLogNEHVI with both objectives modelled, a different algorithm, "
                   f"{r['known.plain_wall_s']:.2f} s ({r['known.plain_cpu_ratio']:.0f}x)")
    if "known" in done and r.has("known.same_wall_s"):
        anchor += (f"; the same Pareto probability with a fresh fit on raw cells {r['known.same_wall_s']:.2f} s "
                   f"({r['known.same_cpu_ratio']:.1f}x)")
    if all(r[f"{k}.ours_wall_s"] < 1 for k in done):
        met = "yes"
    elif all(r[f"{k}.ours_cpu_s"] < 1 for k in done):
        met = "in CPU time (the time of an idle core); not in wall time at this load"
    else:
        met = "no"
    return (f"BO step time, {r['observations']} observations over 15,625 candidates (wall s, one thread; CPU s of "
            "the process)", ours, anchor + " (same run)", met)


def _found(r: Record, method: str) -> str:
    n = r["budget"]
    return f"{r[f'{method}.found@{n}']:.1f} ({r[f'{method}.found@{n}.min']}..{r[f'{method}.found@{n}.max']})"


@readme_row("search_multi-pixel3", "multi-objective valid_acc vs pixel3 latency: true Pareto cells found / hypervolume",
            ">= half of the true front, above evolution and random")
def _search_multi(R: Results):
    r = R("search_multi-pixel3")
    n = r["budget"]
    hv = lambda m: f"{r[f'{m}.hv@{n}']:.3f}"  # noqa: E731
    found = lambda m: r[f"{m}.found@{n}"]  # noqa: E731
    plain = "bo-onehot-raw-qlognehvi"
    return (f"multi-objective valid_acc vs pixel3 latency at {n} queries, {r['seeds']} {seeds_text(r)}: true Pareto "
            f"cells found (of {r['true_front']}) / hypervolume (nadir ref.)",
            f"BO arch2vec+stats {_found(r, 'bo-arch2vec+stats')} / {hv('bo-arch2vec+stats')}; one-hot+stats "
            f"{found('bo-onehot+stats'):.1f} / {hv('bo-onehot+stats')}",
            (f"plain qLogNEHVI (one-hot) {found(plain):.1f} / {hv(plain)}; " if r.has(f"{plain}.found@{n}") else "")
            + f"evolution {found('evolution'):.1f} / {hv('evolution')}; random {found('random'):.1f} / {hv('random')} "
            "(same seeds)",
            yes(found("bo-arch2vec+stats") >= r["true_front"] / 2
                and found("bo-arch2vec+stats") > max(found("evolution"), found("random"))))


@readme_row("search_multi-pixel3_energy", "three objectives (+ analytic energy): true Pareto cells found / hypervolume",
            "above evolution and random")
def _search_three(R: Results):
    r = R("search_multi-pixel3_energy")
    n = r["budget"]
    hv = lambda m: f"{r[f'{m}.hv@{n}']:.3f}"  # noqa: E731
    found = lambda m: r[f"{m}.found@{n}"]  # noqa: E731
    return (f"three objectives (+ analytic energy) at {n} queries, {r['seeds']} {seeds_text(r)}: true Pareto cells "
            f"found (of {r['true_front']}) / hypervolume",
            f"BO arch2vec+stats {_found(r, 'bo-arch2vec+stats')} / {hv('bo-arch2vec+stats')}; one-hot+stats "
            f"{found('bo-onehot+stats'):.1f} / {hv('bo-onehot+stats')}",
            f"evolution {found('evolution'):.1f} / {hv('evolution')}; random {found('random'):.1f} / {hv('random')}",
            yes(found("bo-arch2vec+stats") > max(found("evolution"), found("random"))))


ONE_SHOT = {"uniform+gcn": "uniform + GCN", "gaea": "GAEA", "gaea-bilevel": "GAEA bilevel", "darts": "DARTS (1st order)",
            "snas": "SNAS", "nasp": "NASP"}


@readme_row("supernet_methods", "one-shot methods side by side on real CIFAR-10 images: true NAS-Bench-201 test "
            "accuracy of the derived cell")
def _supernet_methods(R: Results):
    r = R("supernet_methods")
    s = r.settings
    done = [m for m in ONE_SHOT if r.has(f"{m}.true_acc")]
    ours = "; ".join(f"{ONE_SHOT[m]} {r[f'{m}.true_acc']:.2f} ± {r[f'{m}.true_acc_std']:.2f}" for m in done)
    return (f"one-shot methods side by side on the CIFAR-10 image folder (C={s['channels']} N={s['cells']}, "
            f"{r['epochs']} epochs of {r['train_images']:,} images, same for all, {r[f'{done[0]}.seeds']} seeds): true "
            f"NAS-Bench-201 test accuracy of the derived cell", ours,
            f"papers at full scale on GPU: DARTS 54.30 (collapse), GAEA 94.10 ± 0.29; space median "
            f"{r['space_median']:.2f}, best {r['space_best']:.2f}", "-")


FUSED_L = 20  # the anchors of the headline fused row (the demo's default)


@readme_row("fused_ranking", "fused ranking (supernet + zero-cost proxies + anchors) on real CIFAR-10 images: Kendall "
            "tau vs NAS-Bench-201 test_acc", "tau >= 0.75 over all cells, >= 0.30 in the true top 10%, "
            "spread over 3 supernet seeds <= 0.03")
def _fused_ranking(R: Results):
    r = R("fused_ranking")
    tau = lambda name, m="kendall_tau": r[f"{name}.{m}.mean"]  # noqa: E731
    fused = f"fused, L={FUSED_L} anchors"
    ours = (f"{fused}: {tau(fused):.3f} (top 10%: {tau(fused, 'top10_kendall_tau'):.3f}, spread "
            f"{r[f'{fused}.kendall_tau.spread']:.3f}); L=10 {tau('fused, L=10 anchors'):.3f}; L=40 "
            f"{tau('fused, L=40 anchors'):.3f}; no anchors (plain rank average) {tau('rank average, no anchors'):.3f} "
            f"(top 10% {tau('rank average, no anchors', 'top10_kendall_tau'):.3f}, spread "
            f"{r['rank average, no anchors.kendall_tau.spread']:.3f})")
    anchor = (f"same cells: params {tau('params'):.3f} (top 10% {tau('params', 'top10_kendall_tau'):.3f}), NASWOT "
              f"{tau('naswot'):.3f}, synflow {tau('synflow'):.3f}, jacov {tau('jacov'):.3f}, raw supernet "
              f"{tau('supernet'):.3f} (spread {r['supernet.kendall_tau.spread']:.3f})")
    met = (tau(fused) >= 0.75 and tau(fused, "top10_kendall_tau") >= 0.30
           and r[f"{fused}.kendall_tau.spread"] <= 0.03)
    return (f"fused ranking on the CIFAR-10 image folder ({r['num_cells']:.0f} canonical cells, {r['seeds']:.0f} "
            "supernet training seeds): Kendall tau vs NAS-Bench-201 test_acc", ours, anchor, yes(met))


@readme_row("fused_ranking", "the pick under a pixel3 latency bound: regret vs the true best cell under it",
            "regret <= 0.5 under both bounds")
def _fused_pick(R: Results):
    r = R("fused_ranking")
    reg = lambda bound, key: r[f"pick {bound}.{key}.regret.mean"]  # noqa: E731
    worst = lambda bound, key: r[f"pick {bound}.{key}.regret.max"]  # noqa: E731
    fused = "fused, L=20 anchors"
    ours = (f"fused (L=20): {reg('median', fused):.2f} (worst seed {worst('median', fused):.2f}) under the median, "
            f"{reg('p10', fused):.2f} (worst {worst('p10', fused):.2f}) under the 10th percentile")
    rnd = "random, 20 cells (true best of them)"
    anchor = (f"most parameters under the bound {reg('median', 'params'):.2f} / {reg('p10', 'params'):.2f}; raw "
              f"supernet {reg('median', 'supernet'):.2f} / {reg('p10', 'supernet'):.2f}; best true accuracy of 20 "
              f"random cells {reg('median', rnd):.2f} / {reg('p10', rnd):.2f}")
    met = max(worst("median", fused), worst("p10", fused)) <= 0.5
    return (f"the pick under the median and the 10th-percentile pixel3 latency of the same "
            f"{r['num_cells']:.0f} cells: regret (points of test_acc) vs the true best cell under the bound, mean over "
            f"{r['seeds']:.0f} supernet seeds", ours, anchor, yes(met))


@readme_row("fused_ranking-fewshot-seed0", "few-shot supernet (the one-shot supernet split on edge 0 into 5 parts, "
            "each fine-tuned) in the fused ranking, seed 0: Kendall tau vs truth", "keep it if it pays for its time")
def _few_shot(R: Results):
    few, one = R("fused_ranking-fewshot-seed0"), R("fused_ranking")
    rows = one.data["details"]["per_seed"]["0"]["rows"]

    def pair(name: str) -> str:
        return f"{few[f'{name}.kendall_tau.mean']:.3f} (one-shot {rows[name]['kendall_tau']:.3f})"

    better = few["rank average, no anchors.kendall_tau.mean"] > rows["rank average, no anchors"]["kendall_tau"]
    return ("few-shot supernet on real CIFAR-10 images (the seed-0 one-shot supernet of the fused ranking split on "
            "edge 0 into 5 sub-supernets, each fine-tuned 3 epochs; 1,000 canonical cells re-scored): Kendall tau vs "
            "`test_acc`, seed 0 (scores first: `python benchmarks/supernet_few_shot.py --seed 0`)",
            f"raw supernet {pair('supernet')}; GCN on 200 scores {pair('GCN on 200 supernet scores')}; fused without "
            f"anchors {pair('rank average, no anchors')}; fused L=20 {pair('fused, L=20 anchors')}",
            "the same seed's one-shot supernet, same cells, proxies and anchors; cost: 5 fine-tunings plus "
            "scoring every cell again (as long as the one-shot scoring)", "yes" if better else
            "no: the raw ranking improves, the fused one does not; not made a default")


@readme_row("supernet_methods-fused", "the fused pick after a 6-epoch uniform supernet (true test accuracy)",
            ">= 93.0 on every seed")
def _fused_methods(R: Results):
    r = R("supernet_methods-fused")
    return (f"the one-shot comparison's uniform supernet ({r['epochs']} epochs of {r['train_images']:,} images, "
            f"{r['uniform+fused.seeds']} seeds): true test accuracy of the pick",
            f"fused pick (lookup-table path) {r['uniform+fused.true_acc']:.2f} ± {r['uniform+fused.true_acc_std']:.2f} "
            f"(min {r['uniform+fused.true_acc_min']:.2f}); best scored cell by the fused ranking "
            f"{r['uniform+fused.fused_best_scored_true_acc']:.2f} (min "
            f"{r['uniform+fused.fused_best_scored_true_acc_min']:.2f})",
            f"uniform + GCN on the same supernet {r['uniform+gcn.true_acc']:.2f} ± {r['uniform+gcn.true_acc_std']:.2f}",
            yes(r["uniform+fused.true_acc_min"] >= 93.0))


@readme_row("zero_cost_agreement", "zero-cost proxies vs NAS-Bench-Suite-Zero's published scores: Spearman",
            ">= 0.95 per proxy, or the reason")
def _zero_cost_agreement(R: Results):
    r = R("zero_cost_agreement")
    names = ("params", "flops", "synflow", "naswot", "jacov")
    ours = ", ".join(f"{n} {r[f'{n}.spearman']:.3f}" for n in names)
    anchor = ("another initialisation and batch of ours vs published: "
              + ", ".join(f"{n} {r[f'{n}.spearman_other_seed']:.3f}" for n in ("synflow", "naswot", "jacov"))
              + "; ours vs ours: " + ", ".join(f"{n} {r[f'{n}.spearman_ours_vs_ours']:.3f}"
                                                 for n in ("synflow", "naswot", "jacov")))
    met = all(r[f"{n}.spearman"] >= 0.95 or r[f"{n}.spearman"] >= r[f"{n}.spearman_ours_vs_ours"] - 0.03
              for n in names if r.has(f"{n}.spearman_ours_vs_ours")) and all(
              r[f"{n}.spearman"] >= 0.95 for n in ("params", "flops"))
    return (f"zero-cost proxies vs NAS-Bench-Suite-Zero's published scores on {r['num_cells']:.0f} NB201 cells "
            "(CIFAR-10): Spearman", ours, anchor, yes(met))


@readme_row("search_single-reinforce", "REINFORCE (LSTM controller) vs evolution and random search: test accuracy of "
            "the pick after 150 queries, mean ± std", "within the paper's REINFORCE")
def _reinforce(R: Results):
    r = R("search_single-reinforce")
    final = lambda m: f"{r[f'{m}.final_mean']:.2f} ± {r[f'{m}.final_std']:.2f}"  # noqa: E731
    return (f"REINFORCE (LSTM controller) vs evolution and random search on the NAS-Bench-201 CIFAR-10 table: test "
            f"accuracy of the pick after {r['budget']} queries (selected on valid_acc), {r['seeds']} {seeds_text(r)}",
            f"REINFORCE {final('reinforce')}; with a 64-cell memory buffer {final('reinforce-buffer64')}",
            f"NAS-Bench-201 paper's REINFORCE 93.85 ± 0.37 (its budget); same seeds: evolution {final('evolution')}, "
            f"random {final('random')}", yes(r["reinforce.final_mean"] >= 93.85 - 0.37))


@readme_row("search_single-latency8", "under pixel3 latency <= 8 ms: REINFORCE with the RENA penalty vs pruning")
def _reinforce_latency(R: Results):
    r = R("search_single-latency8")
    final = lambda m: f"{r[f'{m}.final_mean']:.2f} ± {r[f'{m}.final_std']:.2f}"  # noqa: E731
    return (f"the same under pixel3 latency <= {r.settings['max_latency_ms']:g} ms, {r['seeds']} {seeds_text(r)}: "
            f"test accuracy of the pick (optimum {r['optimum']:.2f})",
            f"REINFORCE, bound pruned {final('reinforce')}; RENA penalty (bound not pruned) {final('reinforce-rena')}, "
            f"{r['reinforce-rena.infeasible_trials']:.0f} of {r['budget']} trials over the bound",
            f"evolution {final('evolution')}, random {final('random')} (pruned)", "-")


@readme_row("search_parallel", "parallel trials (an objective that sleeps per evaluation): wall-time speed-up over "
            "the sequential loop at 2 / 4 / 8 workers", "near-linear for random search")
def _search_parallel(R: Results):
    r = R("search_parallel")
    counts = [w for w in (2, 4, 8) if r.has(f"process.w{w}.random.speedup")]

    def speedups(kind: str, method: str) -> str:
        return " / ".join(f"{r[f'{kind}.w{w}.{method}.speedup']:.1f}x" for w in counts if r.has(f"{kind}.w{w}.{method}.speedup"))
    ray = (f"; Ray: random {speedups('ray', 'random')}, BO {speedups('ray', 'bo')}"
           if r.has(f"ray.w{counts[0]}.random.speedup") else "")
    loss = ", ".join(f"{r[f'process.w{w}.bo.test_vs_sequential']:+.2f}" for w in counts)
    return (f"parallel trials, {r['budget']} evaluations of a {r['sleep_s']:g} s stand-in for training, {r['seeds']} "
            f"seeds: wall-time speed-up over the sequential loop at {' / '.join(map(str, counts))} workers",
            f"process pool: random {speedups('process', 'random')}, BO {speedups('process', 'bo')}{ray}",
            f"ideal: {' / '.join(f'{w}x' for w in counts)}; asynchronous BO's final test accuracy minus sequential "
            f"BO's (same seeds): {loss}",
            yes(all(r[f"process.w{w}.random.speedup"] >= 0.75 * w for w in counts)))


@readme_row("search_surrogate", "GP surrogate ranking, Kendall tau over the accurate cells, per feature map")
def _surrogate(R: Results):
    r = R("search_surrogate")
    tau = lambda spec: f"{r[f'{spec}.tau_above']:.2f}"  # noqa: E731
    return (f"GP surrogate ranking, Kendall tau over cells above {r['above']:g}% ({r['train_cells']} random training "
            f"cells, {r['repeats']} sets)", f"live-graph statistics {tau('stats')}; arch2vec+stats "
            f"{tau('arch2vec+stats')}", f"one-hot {tau('onehot')}; arch2vec {tau('arch2vec')}", "-")


@readme_row("hardware_latency", "measured CPU latency here vs published `gold_6240`, Spearman")
def _hw_latency(R: Results):
    r = R("hardware_latency")
    ours, flops = r["spearman.measured_median.gold_6240"], r["spearman.flops.gold_6240"]
    met = ("above FLOPs on the CPU column" if ours > flops else "below FLOPs on the CPU column: our network skips "
           "dead edges, the published timing ran them")
    return (f"measured CPU latency here vs published `gold_6240`, Spearman ({r['archs']} cells)",
            f"{ours:.3f} (run-to-run {r['run_to_run.median']:.3f}); pixel3 "
            f"{r['spearman.measured_median.pixel3']:.3f}, eyeriss {r['spearman.measured_median.eyeriss']:.3f}",
            f"FLOPs {flops:.3f} (pixel3 {r['spearman.flops.pixel3']:.3f}, eyeriss {r['spearman.flops.eyeriss']:.3f})",
            met)


ENERGY_DEVICES = ("gold_6240", "1080ti_1", "pixel3", "fpga", "eyeriss")


@readme_row("hardware_energy", "analytic energy model vs published latency, Spearman (all cells)", "above FLOPs")
def _hw_energy(R: Results):
    r = R("hardware_energy")
    model = [r[f"spearman.energy_fp32.{d}"] for d in ENERGY_DEVICES]
    flops = [r[f"spearman.flops.{d}"] for d in ENERGY_DEVICES]
    return (f"analytic energy model vs published latency, Spearman (all {r['archs']:,} cells)",
            ", ".join(f"{d} {v:.3f}" for d, v in zip(ENERGY_DEVICES, model)),
            "FLOPs " + " / ".join(f"{v:.3f}" for v in flops), yes(all(m > f for m, f in zip(model, flops))))


@readme_row("data_natsbench", "NATS-Bench reader, per cell (4 datasets x 2 budgets), on a fixture archive")
def _natsbench(R: Results):
    r = R("data_natsbench")
    return ("NATS-Bench reader, per cell (4 datasets x 2 budgets), on a fixture archive",
            f"{r['gcnas_ms_per_arch']:.1f} ms, {r['gcnas_peak_heap_mib']:.1f} MiB heap for {r['archs']} cells",
            f"official API directly: {r['official_ms_per_arch']:.1f} ms, {r['official_peak_heap_mib']:.1f} MiB "
            f"({r['time_ratio']:.2f}x, {r['heap_ratio']:.3f}x)", "-")


@readme_row("demo_pipeline-digits", "`gcnas demo` (digits, CPU, whole pipeline)", "< 10 min on 2 cores")
def _demo_digits(R: Results):
    r = R("demo_pipeline-digits")
    wall = r["command_wall_s"]
    return ("`gcnas demo` (digits, CPU, whole pipeline)",
            f"{int(wall // 60)} min {wall % 60:.0f} s wall, of which {r['stage.predictor_s']:.0f} s the fused "
            f"predictor (proxies, anchors, GCN); GCN held-out tau vs its targets "
            f"{r['predictor_kendall_tau_heldout']:.3f}", "—", yes(wall < 600))


@readme_row("contention", "`gcnas demo` beside one competing CPU-bound process (2 cores): contended / idle wall time",
            "every stage <= 2.5x; demo < 10 min")
def _contention(R: Results):
    r = R("contention")
    idle, busy = r["gcnas_idle_seconds"], r["gcnas_contended_seconds"]
    return ("`gcnas demo` (digits) beside one competing CPU-bound process on 2 cores: whole demo and worst stage, "
            "contended / idle wall time",
            f"whole demo {busy / idle:.2f}x ({idle:.0f} s idle, {busy:.0f} s contended); worst stage "
            f"{r['gcnas_worst_stage_ratio']:.2f}x ({r['gcnas_worst_stage']})",
            "torch's default threads: see the --quick row below (same benchmark)",
            yes(r["gcnas_stages_within_goal"] and busy < 600))


@readme_row("contention-quick", "`gcnas demo --quick` beside one competing process: the thread policy vs torch's "
            "default threads", "every stage <= 2.5x")
def _contention_quick(R: Results):
    r = R("contention-quick")
    return ("`gcnas demo --quick` beside one competing CPU-bound process on 2 cores: gcnas's thread policy "
            "(1 thread, passive OpenMP waiting) vs torch's defaults, contended / idle",
            f"whole {r['gcnas_whole_ratio']:.2f}x, worst stage {r['gcnas_worst_stage_ratio']:.2f}x "
            f"({r['gcnas_worst_stage']}); idle {r['gcnas_idle_seconds']:.0f} s",
            f"torch defaults (one thread per core, spinning waits): whole {r['torch-default_whole_ratio']:.2f}x, worst "
            f"stage {r['torch-default_worst_stage_ratio']:.2f}x ({r['torch-default_worst_stage']}) (same run)",
            yes(r["gcnas_stages_within_goal"]))


def readme_table(R: Results) -> str:
    header = ["benchmark", "ours", "anchor / baseline (same run)", "goal", "met", "command (machine, load at start)"]
    return table(header, [row.cells(R) for row in README_ROWS])


# -- docs tables -----------------------------------------------------------------------------

def doc_predictor_zero_cost(R: Results) -> str:
    r = R("predictors_zero_cost")
    sizes = [int(k) for k in str(r.settings["sizes"]).split(",") if k]
    rows = []
    for k in sizes:
        for model, name in (("gcn", "GCN (graph + log params)"), ("gcn+zc", "GCN + zero-cost features")):
            if r.has(f"{model}@{k}.kendall_tau.mean"):
                rows.append([str(k), name] + [f"{r[f'{model}@{k}.{m}.mean']:.3f} ± {r[f'{model}@{k}.{m}.std']:.3f}"
                                              for m in ("kendall_tau", "top10_kendall_tau", "precision_at_10",
                                                        "spearman")] + [f"{r[f'{model}@{k}.fit_seconds.mean']:.0f} s"])
    return table(["K", "predictor", "Kendall tau", "tau in the true top 10%", "precision@10%", "Spearman",
                  "fit (wall)"], rows) + "\n\n" + _provenance(r)


def doc_supernet_darts_methods(R: Results) -> str:
    r = R("supernet_darts_methods")
    rows = [[row["method"].upper(), f"`{row['genotype']}`", f"{row['params_m']:.3f}", f"{row['predicted_acc']:.2f}",
             f"{row['predicted_percentile']:.1f}%",
             f"{row['normal_param_free_ops']} / {row['reduce_param_free_ops']}",
             f"{row['entropy_per_epoch'][-1]:.3f}", f"{row['final_train_acc']:.1f}%",
             f"{row['train_seconds']:.0f} s"] for row in r.data["details"]["rows"]]
    return table(["method", "derived genotype", "params (M, NAS-Bench-301 shape)", "predicted accuracy",
                  "above random genotypes", "parameter-free ops (normal / reduce)", "entropy at the end (uniform 2.079)",
                  "train accuracy", "training (wall)"], rows) + "\n\n" + _provenance(r)


def _provenance(*records: Record) -> str:
    if len(records) == 1:
        return f"Command: {records[0].command_cell()}."
    return "\n".join(f"`benchmarks/results/{r.stem}.json`: {r.command_cell()}." for r in records)


def doc_natsbench(R: Results) -> str:
    r = R("data_natsbench")
    rows = [["NATSBench read, all 4 datasets x 2 hps of one arch", f"{r['gcnas_ms_per_arch']:.1f} ms / arch",
             f"official API used directly (baseline): {r['official_ms_per_arch']:.1f} ms / arch -> ratio "
             f"{r['time_ratio']:.2f}"],
            [f"peak Python heap reading {r['archs']} archs", f"{r['gcnas_peak_heap_mib']:.1f} MiB",
             f"official API: {r['official_peak_heap_mib']:.1f} MiB (keeps every file) -> ratio {r['heap_ratio']:.3f}"],
            ["whole archive (estimate from the above)", f"~{r['projected_minutes_all']:.0f} min for 15,625 archs, "
             "heap flat", f"official API: ~{r['projected_official_heap_gib_all']:.0f} GiB heap if every file stays "
             "loaded"],
            ["fixture write", f"{r['fixture_write_ms']:.0f} ms, {r['fixture_kib_per_file']:.0f} KiB per results file",
             "-"]]
    return table(["figure", "measured", "anchor / goal"], rows) + "\n\n" + _provenance(r)


def _a2v_round_trip_rows(r: Record) -> list[list[str]]:
    """The round trip latent BO relies on: held-out cell -> embedding -> decode -> the same space.key."""
    if not r.has("roundtrip.exact_search"):  # results of the encoder before the decision decoder
        return [["held-out cells decoded exactly from the graph embedding",
                 f"{r['heldout.graph_exact']:.1%} (train: {r['train.graph_exact']:.1%})", "", "(not a goal)", ""]]
    exact, count = r["roundtrip.exact_search"], r["roundtrip.count"]
    return [["held-out cells back from their embedding (`decode`: decision decoder + search, same `space.key`)",
             f"**{exact:.2%}** ({round(exact * count):,}/{count:,}), {r['roundtrip.ms_search']:.1f} ms per cell",
             f"decision decoder alone: {r['roundtrip.exact_decoder']:.2%}; train cells: "
             f"{r['train.graph_exact']:.2%}", ">= 99.5%", yes(exact >= 0.995)]]


def doc_arch2vec_darts(R: Results) -> str:
    r = R("encoders_arch2vec-darts")
    pct = lambda x: f"{x:.2%}"  # noqa: E731
    rows = []
    if r["fit_seconds"] is not None:
        cpu = f", {r['fit_cpu_seconds']:.0f} s of CPU" if r.has("fit_cpu_seconds") else ""
        rows.append([f"`Arch2Vec(space=\"darts\").fit()` on {r.settings['sample_size']:,} sampled cells "
                     f"({r['heldout.count']:,} held out), {r.settings['epochs']} epochs + decision decoder", f"{r['fit_seconds']:.0f} s wall{cpu}",
                     f"decision decoder phase {r['decoder_seconds']:.0f} s", "", ""])
    rows += [["held-out cells reconstructed exactly (node latents -> types + adjacency, both graphs)",
              f"{pct(r['heldout.exact'])} ({round(r['heldout.exact'] * r['heldout.count']):,}/{r['heldout.count']:,})",
              f"train cells ({r['train.count']:,} checked): {pct(r['train.exact'])}", "", ""],
             *_a2v_round_trip_rows(r),
             ["distinct embeddings among the held-out cells", pct(r["roundtrip.distinct_embeddings"]), "", "", ""],
             ["graph vectors z ~ N(0, I) decoded by the decision decoder",
              f"{r['prior_graph.unique_after_repair']:.1%} distinct of {r['prior_graph.samples']:,} (all valid)",
              f"uniform draws: {r['uniform.unique_after_repair']:.1%} distinct", "", ""]]
    return table(["measure", "arch2vec on DARTS", "anchor / baseline (same run)", "goal", "met"], rows) + "\n\n" + (
        _provenance(r))


def doc_arch2vec(R: Results) -> str:
    r = R("encoders_arch2vec")
    pct = lambda x: f"{x:.2%}"  # noqa: E731
    rows = []
    if r["fit_seconds"] is not None:
        rows.append([f"`Arch2Vec().fit()` on the whole space ({r['train.count']:,} train + {r['heldout.count']:,} held "
                     f"out), {r.settings['epochs']} epochs + decoder phase", f"{r['fit_seconds']:.1f} s",
                     f"goal 180 s: ratio {r['fit_seconds'] / 180:.2f}", "< 3 min", yes(r["fit_seconds"] < 180)])
    rows += [["held-out cells reconstructed exactly (node latents -> ops + adjacency)",
              f"{pct(r['heldout.exact'])} ({round(r['heldout.exact'] * r['heldout.count']):,}/{r['heldout.count']:,})",
              f"train cells: {pct(r['train.exact'])}", ">= 99.5%", yes(r["heldout.exact"] >= 0.995)],
             ["held-out op accuracy / adjacency accuracy", f"{r['heldout.op_acc']:.2%} / {r['heldout.adj_acc']:.2%}",
              "", "", ""],
             *_a2v_round_trip_rows(r),
             ["validity from the prior, graph vectors z ~ N(0, I)", f"{r['prior_graph.valid']:.0%} valid, "
              f"{r['prior_graph.unique_of_valid']:.1%} unique of {r['prior_graph.samples']:,}",
              f"uniform draws from the space: {r['uniform.unique_after_repair']:.1%} unique", "", ""],
             ["validity from the prior, node latents ~ N(0, I) per node",
              f"{r['prior_nodes.types_valid']:.2%} valid node types, {r['prior_nodes.valid']:.0%} valid cells (types "
              f"and wiring) before repair; {r['prior_nodes.unique_after_repair']:.1%} unique after repair",
              f"uniform draws: {r['uniform.unique_after_repair']:.1%} unique", "", ""]]
    if r.has("smooth.arch2vec.mean"):
        a, o, z = (r[f"smooth.{k}.mean"] for k in ("arch2vec", "onehot", "random"))
        rows += [[f"mean |test acc diff| to the {r['smooth.k']} nearest neighbours",
                  f"**{a:.2f}** (median {r['smooth.arch2vec.median']:.2f})",
                  f"one-hot space {o:.2f} (median {r['smooth.onehot.median']:.2f}); random pairs {z:.2f} (median "
                  f"{r['smooth.random.median']:.2f})", "arch2vec < one-hot < random",
                  f"{yes(a < o < z)}: {a / o:.2f}x one-hot, {a / z:.2f}x random"],
                 ["the same, cells above the 10th accuracy percentile", f"{r['smooth.arch2vec.mean_top90']:.2f}",
                  f"one-hot {r['smooth.onehot.mean_top90']:.2f}; random {r['smooth.random.mean_top90']:.2f}", "",
                  yes(r["smooth.arch2vec.mean_top90"] < r["smooth.onehot.mean_top90"])]]
    return table(["measure", "arch2vec", "anchor / baseline (same run)", "goal", "met"], rows) + "\n\n" + _provenance(r)


def doc_energy(R: Results) -> str:
    r = R("hardware_energy")
    names = {"energy_fp32": "energy model fp32 (Horowitz 45 nm)", "energy_int8": "energy model int8",
             "flops": "baseline: FLOPs", "params": "baseline: params"}
    rows = [[name] + [f"{r[f'spearman.{key}.{d}']:.3f}" for d in ENERGY_DEVICES] for key, name in names.items()]
    return (table(["Spearman with published latency", *ENERGY_DEVICES], rows)
            + f"\n\nSpearman between the fp32 and int8 estimates: {r['spearman_fp32_int8']:.6f}; the model costs "
            f"{r['model_seconds'] * 1000:.0f} ms for both presets over {r['archs']:,} cells.\n" + _provenance(r))


def doc_hw_latency(R: Results) -> str:
    r = R("hardware_latency")
    names = {"measured_median": "measured here, median of repeats", "measured_min": "measured here, fastest repeat",
             "flops": "baseline: FLOPs (exact, all edges)", "live_flops": "baseline: FLOPs of live edges only"}
    spearman = table(["Spearman with published column", *ENERGY_DEVICES],
                     [[name] + [f"{r[f'spearman.{key}.{d}']:.3f}" for d in ENERGY_DEVICES]
                      for key, name in names.items()])
    s = r.settings
    runs = table([f"run-to-run figure (same {r['archs']} archs, two passes)", "value"], [
        ["Spearman pass 1 vs pass 2 (median / fastest)", f"{r['run_to_run.median']:.3f} / {r['run_to_run.min']:.3f}"],
        ["median |pass1 - pass2| / latency (90th pct)", f"{r['run_to_run.relative_difference_median']:.3f} "
         f"({r['run_to_run.relative_difference_p90']:.3f})"],
        ["median within-run IQR / median", f"{r['within_run_iqr_over_median']:.3f}"],
        ["measured latency here, median (range)", f"{r['latency_ms.median']:.2f} ms ({r['latency_ms.min']:.2f}-"
         f"{r['latency_ms.max']:.2f}); gold_6240 median {r['gold_6240_ms.median']:.2f} ms"],
        [f"time per architecture (build + {s['warmup'] + s['repeats']} passes)", f"{r['seconds_per_arch']:.3f} s"],
        ["projected time to measure all 15,625", f"{r['projected_hours_all']:.2f} h on this machine, as loaded"]])
    return spearman + "\n\n" + runs + "\n\n" + _provenance(r)


PREDICTOR_FILES = ("predictors_ranking", "predictors_ranking-seeds0-4", "predictors_ranking-baselines",
                   "predictors_ranking-sizes")


def doc_predictor_ranking(R: Results) -> str:
    rows, sources, missing = [], [], []
    for stem in PREDICTOR_FILES:
        if not R.has(stem):
            missing.append(stem)
            continue
        r = R(stem)
        sources.append(r)
        sizes = [int(k) for k in str(r.settings["sizes"]).split(",")]
        for size in sizes:
            for model in str(r.settings["models"]).split(","):
                key = f"{model}@{size}"
                if r.has(f"{key}.kendall_tau.mean"):
                    n = r[f"{key}.n"]
                    seeds = seeds_text(r) + (" (seed 0 tuned on)" if r.has("tuning_seeds_used")
                                              and r["tuning_seeds_used"] else "")
                    rows.append([model, str(size), seeds, *(f"{_mean_std(r, key, m)} (n={n})" for m in
                                 ("kendall_tau", "top10_kendall_tau", "precision_at_10")),
                                 f"{r[f'{key}.fit_seconds.mean']:.1f}"])
    if not rows:
        raise Missing(PREDICTOR_FILES[0])
    text = table(["model", "K", "seeds", "Kendall tau", "top-10% Kendall tau", "precision@10%", "fit s"], rows)
    ceilings = [r["ceiling_kendall_tau"] for r in sources if r.has("ceiling_kendall_tau")]
    if ceilings:
        text += f"\n\nCeiling (`valid_acc` ranked against `test_acc`, same run): {ceilings[0]:.3f}."
    text += "\n\n" + _provenance(*sources)
    text += "".join(f"\nNot yet rerun: {rerun(stem)}." for stem in missing)
    return text


def doc_proxy(R: Results) -> str:
    r = R("predictors_proxy")
    rows = [["raw 12-epoch proxy (every architecture scored)", f"{r['proxy.kendall_tau']:.3f}",
             f"{r['proxy.top10_kendall_tau']:.3f}"]]
    for size in str(r.settings["sizes"]).split(","):
        key = f"gcn@{size}"
        if r.has(f"{key}.gcn_tau.mean"):
            rows.append([f"GCN fitted to {size} proxy scores ({seeds_text(r)})",
                         f"{_mean_std(r, key, 'gcn_tau')} (n={r[key + '.n']})",
                         f"{_mean_std(r, key, 'gcn_top10_tau')} (n={r[key + '.n']})"])
    return (table(["ranking of all 15,625 by", "Kendall tau vs 200-epoch test_acc", "top-10% Kendall tau"], rows)
            + "\n\n" + _provenance(r))


def doc_latency_predictor(R: Results) -> str:
    r = R("predictors_latency")
    rows = []
    for device in str(r.settings["devices"]).split(","):
        for size in str(r.settings["sizes"]).split(","):
            key = f"{device}@{size}"
            if r.has(f"{key}.gcn_within_10.mean"):
                rows.append([device, size, f"{_mean_std(r, key, 'gcn_within_10')} (n={r[key + '.n']})",
                             f"{_mean_std(r, key, 'flops_within_10')} (n={r[key + '.n']})",
                             f"{r[f'{key}.fit_seconds.mean']:.1f}"])
    return (table(["device", "K", "GCN within ±10%", "FLOPs line within ±10%", "fit s"], rows) + "\n\n"
            + _provenance(r))


def doc_latency_bounds(R: Results) -> str:
    r = R("latency_bounds")
    rounds = int(r.settings["rounds"])
    stages = [("point", "point estimate (today)"), ("each", f"each pick's upper end at {r.settings['confidence']:g}"),
              ("conf", f"FDR selection at {r.settings['confidence']:g} (default)"),
              *((f"round{k}", f"after measure-next round {k}") for k in range(1, rounds + 1))]
    rows = []
    for device in BOUND_DEVICES:
        if not r.has(f"{device}.conf.within.mean"):
            continue
        rows.append([device, f"{r[f'{device}.bound_ms.mean']:.2f}", f"{r[f'{device}.coverage.mean']:.3f}",
                     f"{r[f'{device}.oracle.gap_best']:.2f}"]
                    + [f"{r[f'{device}.{s}.within.mean']:.1f} (min {r[f'{device}.{s}.min_within']}), "
                       f"{r[f'{device}.{s}.measured.mean']:.1f} measured, gap {_gap(r, device, s)}" for s, _ in stages])
    return (table(["device", "bound ms", "coverage of upper ends", "gap, perfect latency", *(n for _, n in stages)],
                  rows)
            + "\n\nEach stage cell: picks of the top 10 truly within the bound (mean over seeds; min: worst seed), "
              "picks that are measured, and the gap in true test_acc from the best cell truly within the bound to "
              "the best / the first truly-within pick (mean over the seeds with one; '-': none). Coverage: share of "
              "unmeasured cells whose true latency is at most their upper end at the stated confidence. "
              + _provenance(r))


def _gap(r: Record, device: str, stage: str) -> str:
    best, first = (r[f"{device}.{stage}.{g}.mean"] for g in ("gap_best", "gap_first"))
    none = r[f"{device}.{stage}.gap_best.none_within"]
    text = "-" if best is None else f"{best:.2f} / {first:.2f}"
    return text + (f" ({none} seed{'s' if none > 1 else ''} with no pick within)" if none else "")


LUT_NAMES = {"top10": "top-10 by accuracy, no bound", "top10_latency": "top-10, latency <= 5 ms",
             "top10_three_bounds": "top-10, latency <= 5, params <= 0.5, energy <= 5",
             "top10_four_bounds": "top-10, all four bounds", "pareto_all": "Pareto accuracy/latency, all",
             "pareto_params": "Pareto accuracy/latency, params <= 0.5"}


def doc_lut(R: Results) -> str:
    r = R("predictors_lut")
    rows = [[name, str(r[f"{q}.rows"]), f"{r[f'{q}.query_ms']:.2f}",
             f"{r[f'{q}.scan_ms']:.1f}" if r.has(f"{q}.scan_ms") else "-",
             f"{r[f'{q}.speedup']:.0f}x" if r.has(f"{q}.speedup") else "-"] for q, name in LUT_NAMES.items()]
    build = (f"LUT build, 15,625 archs: median {r['build_median_s']:.2f} s over {r['builds']} builds (goal < 10 s: "
             f"{yes(r['build_median_s'] < 10)})")
    if r.has("fit_seconds"):
        build += f"; the GCN ensemble fitted on 100 archs first, {r['fit_seconds']:.1f} s (not part of the build)"
    header = ["query", "rows", "median ms (goal < 10)", "full-scan baseline ms", "speed-up"]
    return build + ".\n\n" + table(header, rows) + "\n\n" + _provenance(r)


SINGLE_METHODS = {"bo-arch2vec+stats": "BO arch2vec + statistics (CLI default)", "bo-onehot+stats":
                  "BO one-hot + statistics", "bo-arch2vec": "BO arch2vec", "bo-onehot": "BO one-hot",
                  "bo-onehot-raw": "BO one-hot of the raw cell (no canonical features, no replicate noise)",
                  "latent-bo": "latent-space BO (arch2vec, decoded; never lists the space)",
                  "evolution": "regularised evolution", "random": "random search",
                  "reinforce": "REINFORCE (LSTM controller)", "reinforce-buffer64": "REINFORCE, memory buffer 64",
                  "reinforce-rena": "REINFORCE, RENA penalty (bound not pruned)"}


def doc_search_single(R: Results) -> str:
    r = R("search_single")
    rows = []
    for method in str(r.settings["methods"]).split(","):
        if not r.has(f"{method}.test@25"):
            continue
        cells = [f"{r[f'{method}.test@{n}']:.2f}" if r.has(f"{method}.test@{n}") else "-" for n in (25, 50, 100, 150)]
        queries = r[f"{method}.queries_to_best (median)"]
        rows.append([SINGLE_METHODS.get(method, method), *cells, f"{r[f'{method}.found<=100']:.0%}",
                     f"> {r['budget']}" if queries > r["budget"] else f"{queries:g}",
                     f"{r[f'{method}.step_s']:.2f}" if method.startswith(("bo-", "latent")) else "—"])
    return (f"{r['seeds']} {seeds_text(r)}; the optimum (test accuracy of the best-valid cell): {r['optimum']:.2f}.\n\n"
            + table(["method", "@25", "@50", "@100", "@150", "best-valid cell found within 100",
                     "median queries to find it", "step (s)"], rows) + "\n\n" + _provenance(r))


MULTI_METHODS = {**SINGLE_METHODS, "bo-arch2vec+stats": "BO arch2vec + statistics, Pareto probability (CLI default)",
                 "bo-onehot+stats": "BO one-hot + statistics, Pareto probability",
                 "bo-arch2vec": "BO arch2vec, Pareto probability", "bo-onehot": "BO one-hot, Pareto probability",
                 "bo-onehot-raw-qlognehvi": "plain qLogNEHVI, one-hot of the raw cell, latency modelled"}


def _doc_multi(R: Results, stem: str) -> str:
    r = R(stem)
    n = r["budget"]
    checkpoints = sorted({*(c for c in (50, 100, 150) if c <= n), n})
    rows = []
    for method in str(r.settings["methods"]).split(","):
        if not r.has(f"{method}.hv@{n}"):
            continue
        rows.append([MULTI_METHODS.get(method, method), *(f"{r[f'{method}.hv@{c}']:.3f}" for c in checkpoints),
                     *(f"{r[f'{method}.found@{c}']:g}" for c in checkpoints[:-1]), _found(r, method),
                     f"{r[f'{method}.step_s']:.2f}" if method.startswith("bo-") else "—"])
    header = ["method", *(f"hv @{c}" for c in checkpoints), *(f"found @{c}" for c in checkpoints[:-1]),
              f"found @{n} (min..max)", "step (s)"]
    return (f"{r['seeds']} {seeds_text(r)}; {r['true_front']} true Pareto cells.\n\n" + table(header, rows) + "\n\n"
            + _provenance(r))


def doc_search_multi(R: Results) -> str:
    return _doc_multi(R, "search_multi-pixel3")


def doc_search_three(R: Results) -> str:
    return _doc_multi(R, "search_multi-pixel3_energy")


STEP_ROWS = {"single": "one objective (qLogNEI)", "multi": "accuracy + latency, both modelled (qLogNEHVI)",
             "known": "accuracy + latency known (Pareto probability)",
             "three": "accuracy + latency + energy known (Pareto probability)"}


def doc_step_time(R: Results) -> str:
    r = R("search_step_time")
    num = lambda key, digits=2: f"{r[key]:.{digits}f}" if r.has(key) else "—"  # noqa: E731
    rows = []
    for k, name in STEP_ROWS.items():
        if not r.has(f"{k}.ours_wall_s"):
            continue
        plain = num(f"{k}.plain_wall_s")
        if r.has(f"{k}.plain_wall_s"):
            plain += "" if r[f"{k}.plain_same_algorithm"] else " (qLogNEHVI, both modelled: another algorithm)"
        rows.append([name, f"**{r[f'{k}.ours_wall_s']:.2f}**", num(f"{k}.refit_wall_s"), num(f"{k}.reuse_wall_s"),
                     plain, num(f"{k}.plain_cpu_ratio", 1) + ("x" if r.has(f"{k}.plain_cpu_ratio") else ""),
                     num(f"{k}.same_wall_s"), num(f"{k}.same_cpu_ratio", 1) + ("x" if r.has(f"{k}.same_cpu_ratio")
                                                                              else "")])
    return (table(["setting", "our step, wall (s)", "with a refit (s)", "without (s)", "plain BoTorch step (s)",
                   "CPU-time ratio", "same acquisition, fresh fit, raw cells (s)", "CPU-time ratio"], rows) + "\n\n"
            + _provenance(r))


def doc_throughput(R: Results) -> str:
    r = R("supernet_throughput")
    rows = [[x, f"{r[f'{x}.ours_img_s']:.1f}", f"{r[f'{x}.theirs_img_s']:.1f}", f"{r[f'{x}.ratio']:.2f}x", ">= 1.5x",
             yes(r[f"{x}.ratio"] >= 1.5)] for x in STRATEGIES if r.has(f"{x}.ratio")]
    return (table(["strategy", "ours img/s", "xautodl img/s", "ours/theirs", "goal", "met"], rows) + "\n\n"
            + _provenance(r))


ENTROPY_RUNS = {"gaea": "GAEA (single-level)", "gaea-bilevel": "GAEA (bilevel)", "darts": "DARTS (bilevel)",
                "darts-1level": "DARTS (single-level)"}


def doc_entropy(R: Results) -> str:
    r = R("supernet_entropy")
    runs = [n for n in str(r.settings["runs"]).split(",") if r.has(f"{n}.entropy")]
    rows = [[str(e)] + [f"{r[f'{n}.entropy@{e}']:.3f} / {r[f'{n}.max_weight@{e}']:.3f}" for n in runs]
            for e in range(1, r["epochs"] + 1)]
    rows.append(["final train accuracy"] + [f"{r[f'{n}.train_accuracy']:.1f}%" for n in runs])
    return table(["epoch", *(ENTROPY_RUNS.get(n, n) for n in runs)], rows) + "\n\n" + _provenance(r)


RANKING_ROWS = {"supernet": "supernet score (accuracy)", "supernet -loss": "supernet score (-loss)",
                "params": "parameter count", "synflow": "synflow", "naswot": "NASWOT"}
METRICS = ("kendall_tau", "spearman", "precision_at_5", "top10_kendall_tau", "precision_at_10")


def doc_supernet_ranking(R: Results) -> str:
    r = R(HEADLINE)
    rows = []

    def add(name: str, key: str) -> None:
        if r.has(f"{key}.kendall_tau"):
            rows.append([name] + [f"{r[f'{key}.{m}']:.{2 if m.startswith('precision') else 3}f}" for m in METRICS])
    rows.append([f"**all {r['num_cells']} cells**", "", "", "", "", ""])
    for key, name in RANKING_ROWS.items():
        add(name, f"{key} (all cells)")
    for k in [int(k) for k in str(r.settings["ks"]).split(",") if k]:
        if not r.has(f"K={k}: supernet.kendall_tau"):
            continue
        rows.append([f"**K={k}: the other {r['num_cells'] - k} cells** (mean of {r.settings['splits']} splits)",
                     "", "", "", "", ""])
        add(f"GCN fitted to {k} supernet scores", f"K={k}: GCN on {k} scores")
        add(f"GCN fitted to {k} supernet -losses", f"K={k}: GCN on {k} -loss")
        for key, name in RANKING_ROWS.items():
            add(name.replace(" (accuracy)", ""), f"K={k}: {key}")
    s = r.settings
    return (table(["ranking (vs NAS-Bench-201 test_acc)", "Kendall tau", "Spearman", "P@5%", "tau in true top 10%",
                   "P@10%"], rows)
            + f"\n\nSupernet C={s['channels']}, N={s['cells']}, {r['supernet_epochs']} epochs, {s['sampling']} "
            f"sampling, lr {s['lr']}: final train accuracy {r['final_train_accuracy']:.1f}%, "
            f"{r['train_seconds_total'] / 60:.0f} min of training.\n" + _provenance(r))


ABLATION_NAMES = {"code": "`code` sampling (baseline)", "canonical": "`canonical` sampling",
                  "fair": "`fair` sampling (default)", "nonone": "`fair`, `none` never trained",
                  "bn0": "`fair`, no BN recalibration", "bn1": "`fair`, BN recalibrated on 1 batch (256 images)"}


def doc_ablations(R: Results) -> str:
    rows = []
    for key, name in ABLATION_NAMES.items():
        try:
            r = R(ABLATIONS[key])
        except Missing:
            rows.append([name, "not yet rerun", "", "", "", "", rerun(ABLATIONS[key])])
            continue
        raw = "supernet (all cells)"
        gcn = (f"{r['K=200: GCN on 200 scores.kendall_tau']:.3f} ({r['K=200: supernet.kendall_tau']:.3f})"
               if r.has("K=200: GCN on 200 scores.kendall_tau") else "-")
        rows.append([name, f"{r['final_train_accuracy']:.1f}%", f"{r[raw + '.kendall_tau']:.3f} "
                     f"({r[raw + '.top10_kendall_tau']:.3f})", f"{r[raw + '.precision_at_5']:.2f}",
                     f"{r['supernet -loss (all cells).kendall_tau']:.3f}", gcn, r.command_cell()])
    return table(["practice", "train acc", "raw tau (top 10%)", "raw P@5%", "-loss tau",
                  "GCN@200 tau (raw on same cells)", "command (machine, load at start)"], rows)


def doc_supernet_methods(R: Results) -> str:
    r = R("supernet_methods")
    rows = []
    for m, name in ONE_SHOT.items():
        if not r.has(f"{m}.true_acc"):
            continue
        rows.append([name, f"{r[f'{m}.true_acc']:.2f} ± {r[f'{m}.true_acc_std']:.2f}", f"{r[f'{m}.pick_params_m']:.3f}",
                     f"{r[f'{m}.entropy_end']:.3f}" if r.has(f"{m}.entropy_end") else "—",
                     f"{r[f'{m}.cpu_seconds']:.0f}", f"{r[f'{m}.wall_seconds']:.0f}"])
        if r.has(f"{m}.best_scored_true_acc"):
            rows.append([f"{name}: best of the scored cells", f"{r[f'{m}.best_scored_true_acc']:.2f}", "", "", "", ""])
    return (f"CIFAR-10 image folder, {r['train_images']:,} train images, C={r.settings['channels']} "
            f"N={r.settings['cells']}, {r['epochs']} epochs for every method; architecture step sizes x"
            f"{r['arch_lr_scale']:.1f}; space median {r['space_median']:.2f}, best {r['space_best']:.2f}.\n\n"
            + table(["method", "true test acc of the pick (mean ± std)", "params of the pick (M, C=16 N=5)",
                     "final entropy (nats)", "CPU s", "wall s"], rows) + "\n\n" + _provenance(r))


def doc_search_reinforce(R: Results) -> str:
    parts = []
    for stem, title in (("search_single-reinforce", "no bound"),
                        ("search_single-latency8", "pixel3 latency <= 8 ms")):
        try:
            r = R(stem)
        except Missing:
            parts.append(f"{title}: not yet rerun: {rerun(stem)}")
            continue
        rows = []
        for method in str(r.settings["methods"]).split(","):
            if not r.has(f"{method}.final_mean"):
                continue
            rows.append([SINGLE_METHODS.get(method, method), f"{r[f'{method}.final_mean']:.2f} ± "
                         f"{r[f'{method}.final_std']:.2f}", f"{r[f'{method}.test@50']:.2f}",
                         f"{r[f'{method}.found<=150']:.0%}",
                         f"{r[f'{method}.infeasible_trials']:.1f}" if r.has(f"{method}.infeasible_trials") else "—"])
        parts.append(f"**{title}** ({r['seeds']} {seeds_text(r)}, {r['budget']} queries; optimum "
                     f"{r['optimum']:.2f}):\n\n" + table(["method", f"test acc of the pick @{r['budget']} (mean ± std)",
                                                          "median @50", "optimum found", "trials over the bound"],
                                                         rows) + "\n\n" + _provenance(r))
    try:
        parts.append("**valid_acc vs pixel3 latency** (the controller's reward is the accuracy alone; the front "
                     "is taken over its trials):\n\n" + _doc_multi(R, "search_multi-pixel3-reinforce"))
    except Missing:
        parts.append(f"valid_acc vs pixel3 latency: not yet rerun: {rerun('search_multi-pixel3-reinforce')}")
    return "\n\n".join(parts)


def doc_search_parallel(R: Results) -> str:
    r = R("search_parallel")
    rows = []
    for row in r.data["details"]["rows"]:
        std = row["test_std"]
        rows.append([row["executor"], str(row["workers"]), row["method"], f"{row['wall_s']:.1f}",
                     f"{row['speedup']:.2f}", f"{row['utilisation']:.2f}", f"{row['ask_s']:.3f}",
                     f"{row['test_mean']:.2f}" + (f" ± {std:.2f}" if std is not None else ""),
                     f"{row['test_vs_sequential']:+.2f}", str(row["failed"])])
    startup = ", ".join(f"{k[len('startup.'):]} {v:.0f} s" for k, v in r.figures.items() if k.startswith("startup."))
    return (f"{r['budget']} evaluations of {r['sleep_s']:g} s each, {r['seeds']} seeds (ideal speed-up = workers):\n\n"
            + table(["executor", "workers", "method", "wall s", "speed-up", "worker utilisation", "proposal s",
                     "test acc of the pick", "minus sequential (same seeds)", "failed"], rows)
            + f"\n\nExecutor start-up, before the clock: {startup}.\n\n" + _provenance(r))


def doc_fused_ranking(R: Results) -> str:
    r = R("fused_ranking")
    per_seed = r.data["details"]["per_seed"]
    seeds = sorted(per_seed, key=int)
    first = per_seed[seeds[0]]
    rows = []
    for name in first["rows"]:
        taus = [per_seed[s]["rows"][name]["kendall_tau"] for s in seeds]
        tops = [per_seed[s]["rows"][name]["top10_kendall_tau"] for s in seeds]
        rows.append([name, f"{np.mean(taus):.3f}", f"{np.ptp(taus):.3f}", f"{np.mean(tops):.3f}",
                     *(f"{t:.3f}" for t in taus)])
    picks = []
    for key, entry in first["picks"]["median"].items():
        if isinstance(entry, dict):
            cells = [f"{np.mean([per_seed[s]['picks'][b][key]['regret'] for s in seeds]):.2f} / "
                     f"{np.max([per_seed[s]['picks'][b][key]['regret'] for s in seeds]):.2f}" for b in ("median", "p10")]
            picks.append([key, *cells])
    weights = []
    for s in seeds:
        for count, entry in per_seed[s]["weights"].items():
            weights.append([s, count, ", ".join(f"{k} {v:.2f}" for k, v in entry["weights"].items()),
                            f"{entry['shrinkage']:g}", f"{entry['anchor_tau']:.3f}"])
    seconds = r.data["details"]["seconds"]
    bounds = r.data["details"]["bounds_ms"]
    timing = ", ".join(f"{k} {v:.0f} s" for k, v in seconds.items() if k != "anchor_each")
    return (f"{r['num_cells']:.0f} canonical cells, supernet training seeds {', '.join(seeds)}; Kendall tau vs "
            "NAS-Bench-201 test_acc (mean over seeds; spread = max - min):\n\n"
            + table(["ranking", "tau, all cells", "spread", "tau, true top 10%", *(f"seed {s}" for s in seeds)], rows)
            + f"\n\nThe pick under the pixel3 bound (median {bounds['median']:.2f} ms, 10th percentile "
              f"{bounds['p10']:.2f} ms): regret in points of test_acc, mean / worst seed:\n\n"
            + table(["pick", "median bound", "10th-percentile bound"], picks)
            + "\n\nFitted weights (shrinkage chosen by leave-one-out on the anchors; in-sample tau vs the anchors):\n\n"
            + table(["seed", "anchors", "weights", "shrinkage", "tau vs anchors"], weights)
            + f"\n\nWall time on one core of the 1,000 cells: {timing}; one anchor "
              f"{seconds.get('anchor_each', float('nan')):.0f} s.\n\n" + _provenance(r))


DOC_TABLES: dict[str, tuple[str, Callable[[Results], str]]] = {  # name of the block: (file, generator)
    "fused-ranking": ("docs/supernet.md", doc_fused_ranking),
    "search-parallel": ("docs/search.md", doc_search_parallel),
    "supernet-methods": ("docs/supernet.md", doc_supernet_methods),
    "search-reinforce": ("docs/search.md", doc_search_reinforce),
    "natsbench": ("docs/data.md", doc_natsbench),
    "arch2vec": ("docs/encoders.md", doc_arch2vec),
    "arch2vec-darts": ("docs/encoders.md", doc_arch2vec_darts),
    "energy": ("docs/hardware.md", doc_energy),
    "latency": ("docs/hardware.md", doc_hw_latency),
    "predictor-ranking": ("docs/predictors.md", doc_predictor_ranking),
    "proxy": ("docs/predictors.md", doc_proxy),
    "latency-predictor": ("docs/predictors.md", doc_latency_predictor),
    "latency-bounds": ("docs/hardware.md", doc_latency_bounds),
    "lut": ("docs/predictors.md", doc_lut),
    "predictor-zero-cost": ("docs/predictors.md", doc_predictor_zero_cost),
    "search-single": ("docs/search.md", doc_search_single),
    "search-multi": ("docs/search.md", doc_search_multi),
    "search-three": ("docs/search.md", doc_search_three),
    "step-time": ("docs/search.md", doc_step_time),
    "throughput": ("docs/supernet.md", doc_throughput),
    "entropy": ("docs/supernet.md", doc_entropy),
    "darts-methods": ("docs/supernet.md", doc_supernet_darts_methods),
    "supernet-ranking": ("docs/supernet.md", doc_supernet_ranking),
    "supernet-ablations": ("docs/supernet.md", doc_ablations),
}


def doc_block(R: Results, name: str) -> str:
    _, generate = DOC_TABLES[name]
    try:
        return generate(R)
    except Missing as missing:
        return f"Not yet rerun: {rerun(missing.stem)} (its results file does not exist yet)."


# -- the files ------------------------------------------------------------------------------------

GENERATED_NOTE = "<!-- generated by `python benchmarks/results_table.py --write` from benchmarks/results/*.json -->\n"


def render(text: str, path: str, R: Results) -> str:
    """``text`` with every results block of ``path`` regenerated."""
    def block(match: re.Match) -> str:
        name = match.group("name")
        if path == "README.md":
            if name is not None:
                raise ResultsError(f"README.md: the results block takes no name, found {name!r}")
            body = readme_table(R)
        elif name is None:
            raise ResultsError(f"{path}: a results block needs a name, one of {sorted(DOC_TABLES)}")
        elif name not in DOC_TABLES or DOC_TABLES[name][0] != path:
            raise ResultsError(f"{path}: unknown results block {name!r}; the tables of this file are "
                               f"{sorted(n for n, v in DOC_TABLES.items() if v[0] == path)}")
        else:
            body = doc_block(R, name)
        return match.group(1) + GENERATED_NOTE + body + "\n" + match.group(4)

    return BLOCK.sub(block, text)


def check_blocks(files: dict[str, str]) -> None:
    """Every README / docs table is where results_table.py expects it, once."""
    found = {path: [m.group("name") for m in BLOCK.finditer(text)] for path, text in files.items()}
    if found.get("README.md") != [None]:
        raise ResultsError("README.md must hold exactly one <!-- results:begin --> ... <!-- results:end --> block, "
                           f"found {len(found.get('README.md') or [])}")
    for name, (path, _) in DOC_TABLES.items():
        if found.get(path, []).count(name) != 1:
            raise ResultsError(f"{path} must hold the block <!-- results:begin {name} --> ... "
                               f"<!-- results:end {name} --> once, found {found.get(path, []).count(name)}")


def generate(root: Path) -> dict[str, tuple[str, str]]:
    """``{path: (current text, generated text)}`` for README.md and every docs file with a table."""
    R = Results(root / "benchmarks" / "results")
    paths = ["README.md", *sorted({path for path, _ in DOC_TABLES.values()})]
    current = {path: (root / path).read_text() for path in paths}
    check_blocks(current)
    return {path: (text, render(text, path, R)) for path, text in current.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--check", action="store_true", help="exit 1 with a diff where README/docs differ")
    action.add_argument("--write", action="store_true", help="rewrite the generated blocks of README/docs")
    parser.add_argument("--root", type=Path, default=REPO,
                        help="repository root (README.md, docs/, benchmarks/results/)")
    args = parser.parse_args(argv)
    try:
        files = generate(args.root)
    except (ResultsError, OSError) as error:
        print(f"results_table: {error}", file=sys.stderr)
        return 2
    if args.write:
        for path, (old, new) in files.items():
            if old != new:
                (args.root / path).write_text(new)
                print(f"rewrote {path}")
        return 0
    if args.check:
        stale = [path for path, (old, new) in files.items() if old != new]
        for path in stale:
            old, new = files[path]
            sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), new.splitlines(True),
                                                       f"{path} (as committed)", f"{path} (generated)"))
        if stale:
            print(f"\n{', '.join(stale)} differ from benchmarks/results/*.json: run "
                  "python benchmarks/results_table.py --write", file=sys.stderr)
            return 1
        return 0
    print(readme_table(Results(args.root / "benchmarks" / "results")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
