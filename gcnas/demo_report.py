"""The demo's ``report.html``: what was chosen first, then the data, the evidence, the settings."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import numpy as np

from gcnas.data import RunStore
from gcnas.report import Code, Report, plot_curves, plot_pareto, plot_scatter, plot_stage_times
from gcnas.spaces import DEFAULT_SPACE, decision_index, depth_in_architecture, resolve_space

__all__ = ["SECTIONS", "export_commands", "write_report"]


def _code(space: Any, arch: Any) -> int:
    """The cell's code in commands and file names (:func:`gcnas.spaces.decision_index`)."""
    return decision_index(space, arch)


def _history(run_dir: Path) -> list[dict[str, Any]]:
    path = run_dir / "supernet" / "history.json"
    return json.loads(path.read_text())["epochs"] if path.exists() else []


SECTIONS = ("The picks", "Data", "Multi-objective search (BO over ", "Judged by truth",
            "Regret under a latency bound", "Predicted vs trained from scratch", "Lookup table: top 10",
            "Fused ranking", "GCN predictor", "arch2vec latent space", "Supernet training", "Time per stage",
            "What ran: settings")
"""The beginnings of the report's section titles, in order (a run has one of the two predictor
sections; a section without content is left out): the answer first (the picks, how to export
them), then the data, the evidence, and the settings last."""


def write_report(store: RunStore, summary: dict[str, Any], *, map_points: int = 1500) -> Path:
    """Write ``report.html`` and its PNGs into the run directory.

    The report opens with the answer: the picked cells with their predicted (and, with a
    truth table, true) accuracy, their costs and the commands that export them; then the
    data the demo ran on; then the evidence (search, truth, retraining, lookup table,
    predictor, latent space, supernet training, times); the settings last (:data:`SECTIONS`).

    Args:
        store: The demo's run store (every stage finished).
        summary: What :func:`gcnas.demo.run_demo` gathered.
        map_points: Architectures in the t-SNE panel of the latent map (0: PCA only).

    Returns:
        The path of ``report.html``.
    """
    run_dir = store.run_dir
    figures = run_dir / "figures"
    stages = {name.removeprefix("demo:"): info for name, info in store.stages().items()
              if name.startswith("demo:") and not name.startswith("demo:retrain:")}
    settings = store.read_config("demo.json")
    report = Report("gcnas demo report")
    _picks_section(report, store, summary, settings)
    _data_section(report, summary.get("data"))
    _search_section(report, store, summary, figures, stages["search"].get("features", "arch2vec+stats"))
    if "truth" in summary:
        _truth_section(report, summary["truth"], figures)
    _retrain_section(report, summary, figures)
    _lut_section(report, stages["lut"], store.space)
    _predictor_section(report, store, summary, stages, figures)
    _latent_section(report, store, figures, map_points)
    _training_section(report, run_dir, summary, figures)
    timing = report.section("Time per stage")
    seconds = {k: float(v) for k, v in summary["stage_seconds"].items()}
    timing.table(["stage", "seconds"], [[k, v] for k, v in seconds.items()] + [["total", sum(seconds.values())]])
    timing.image(plot_stage_times(seconds, figures / "stage_times.png"))
    _settings_section(report, stages, settings, store.space)
    return report.write(run_dir / "report.html")


def _named_picks(summary: dict[str, Any], space: Any) -> list[tuple[str, Any]]:
    """``(name, arch)`` of the search's picks (``pick 1`` ...) and GAEA's cell."""
    named = [(f"pick {i + 1}", space.parse(a)) for i, a in enumerate(summary["chosen"])]
    if summary.get("gaea_derived"):
        named.append(("GAEA", space.parse(summary["gaea_derived"])))
    return named


def export_commands(arch: Any, run_dir: str | Path, settings: dict[str, Any], name: str,
                    space: Any = None) -> list[str] | None:
    """The two commands that give a picked cell's network as a file: train it, then export it.

    Args:
        arch: The picked cell.
        run_dir: The demo's run directory (``gcnas train`` keeps the weights in ``RUN/models/``).
        settings: The demo's ``demo.json`` (dataset, data root, network shape, epochs).
        name: The file name stem of the export (``pick1``).
        space: The cell's space (``None``: nb201).

    Returns:
        ``[gcnas train ..., gcnas arch export ...]``; None for a space whose networks those commands
        do not build (only nb201's cells and the networks of a space whose depth is part of the
        architecture, imc, take the ``--channels`` / ``--cells`` shape).
    """
    space = resolve_space(space)
    macro = depth_in_architecture(space)
    if space.name != DEFAULT_SPACE and not macro:
        return None
    code = _code(space, arch)
    shape = settings.get("settings", {})
    dataset = shape.get("dataset", "digits")
    named = f"--space {space.name} {shlex.quote(space.format(arch))}" if macro else f"code:{code}"
    train = (f"gcnas train {named} --dataset {dataset}"
             + (f" --data-root {settings['data_root']}" if settings.get("data_root") else "")
             + (f" --image-size {shape['image_size']}" if dataset == "imagefolder" and "image_size" in shape else "")
             + f" --channels {shape.get('channels', 16)}" + ("" if macro else f" --cells {shape.get('cells', 5)}")
             + f" --epochs {shape.get('retrain_epochs', 10)} --batch-size {shape.get('batch_size', 64)}"
             + (f" --steps-per-epoch {shape['steps_per_epoch']}" if shape.get("steps_per_epoch") else "")
             + f" --run {run_dir}")
    export = (f"gcnas arch export {named} --weights {Path(run_dir) / 'models' / f'{code}.pt'} "
              f"--format onnx --out {name}.onnx")
    return [train, export]


def _picks_section(report: Report, store: RunStore, summary: dict[str, Any], settings: dict[str, Any]) -> None:
    space = store.space
    named = _named_picks(summary, space)
    section = report.section("The picks")
    judged = summary.get("truth")
    true_name = f"true_{judged['column']}" if judged else None
    true_of = {p["name"]: p.get(true_name) for p in judged["picks"]} if judged else {}
    trained = {r["arch"]: r["test_accuracy"] for r in summary.get("retrain", [])}
    archs = [a for _, a in named]
    columns = [c for c in ("latency_ms", "energy_mj", "params_m", "flops_m") if c in store.lut_columns()]
    values = {c: store.lut_values(archs, c) for c in ["accuracy", *columns]}
    section.text(f"{len(summary['chosen'])} cells picked from the accurate half of the searched Pareto front, "
                 "spread over its costs" + (", and the cell GAEA derived" if summary.get("gaea_derived") else "")
                 + f". Predicted accuracy: {summary.get('accuracy_column', 'the lookup table')}."
                 + (f" True accuracy: {judged['column']} of the truth table, read only after every pick was made."
                    if judged else ""))
    header = ["pick", "arch", "code", "predicted (%)"] + ([f"true {judged['column']}"] if judged else []) + columns
    header += ["trained from scratch, test (%)"] if trained else []
    rows = []
    for i, (name, arch) in enumerate(named):
        row = [name, space.format(arch), _code(space, arch), float(values["accuracy"][i])]
        row += [true_of.get(name)] if judged else []
        row += [float(values[c][i]) for c in columns]
        row += [trained.get(space.format(arch))] if trained else []
        rows.append(row)
    section.table(header, rows)
    if named and export_commands(named[0][1], store.run_dir, settings, "pick", space) is None:
        section.text(f"<code>gcnas train</code> and <code>gcnas arch export</code> do not build this space's "
                     f"networks; a pick's network is <code>get_space({space.name!r}).network(space.parse(ARCH), "
                     f"...)</code> in Python.")
        return
    commands = [(name, *export_commands(arch, store.run_dir, settings, name.replace(" ", ""), space))
                for name, arch in named]
    section.text("Below the picks, the two commands that make each one a file: train it with the demo's network "
                 "shape and data (its weights go to <code>RUN/models/CODE.pt</code>), then export it (ONNX here; "
                 "<code>--format pt</code> or <code>torchscript</code> also work).")
    section.table(["pick", "train", "export"], [[name, Code(t), Code(e)] for name, t, e in commands])


def _data_section(report: Report, data: dict[str, Any] | None) -> None:
    section = report.section("Data")
    if not data:
        section.text("Not recorded (a report of a run written before the demo recorded its data).")
        return
    names = data.get("class_names")
    section.table(["dataset", "root", "classes", "train images", "valid images", "test images", "image size"],
                  [[data["dataset"], data.get("root") or "-",
                    f"{data['classes']}" + (f": {', '.join(names)}" if names else ""),
                    data["train"], data["valid"], data["test"], f"{data['image_size']}x{data['image_size']}"]])
    section.text("The supernet trains on the train images and scores sub-networks on the valid ones; the picks "
                 "trained from scratch are tested on the test images.")


def _search_section(report: Report, store: RunStore, summary: dict[str, Any], figures: Path, features: str) -> None:
    search = report.section(f"Multi-objective search (BO over {features.split('+')[0]})")
    trials = [t for t in store.trials("demo-bo") if t.status == "ok"]
    objectives = ("accuracy", "latency_ms", "energy_mj")
    front_codes = _front_codes(store.space, trials)
    acc = np.array([t.objectives["accuracy"] for t in trials])
    lat = np.array([t.objectives["latency_ms"] for t in trials])
    chosen = {name: _point(store, arch) for name, arch in _named_picks(summary, store.space)}
    search.text(f"{len(trials)} evaluations; {len(front_codes)} on the Pareto front of (accuracy, latency, "
                "energy). The plot shows that front projected on accuracy and latency: points, not a staircase "
                "(a front member may be slower than another and as accurate, on the front for its energy).")
    search.image(plot_pareto(lat, acc, figures / "pareto.png", title="predicted accuracy vs latency",
                             cost_label="latency (ms)", objectives=len(objectives),
                             front=[i for i, t in enumerate(trials) if _code(store.space, t.arch) in front_codes],
                             chosen=chosen))


def _retrain_section(report: Report, summary: dict[str, Any], figures: Path) -> None:
    rows = summary["retrain"]
    if not rows:
        return
    trained = report.section("Predicted vs trained from scratch")
    tau = summary.get("predicted_vs_trained_kendall_tau")
    trained.text("Each chosen cell (and GAEA's) trained from scratch with the demo's settings. Kendall tau between "
                 f"the GCN's prediction and the test accuracy: <b>{'n/a' if tau is None else f'{tau:.3f}'}</b>"
                 + (" (fewer than 3 cells)" if tau is None else f" over {len(rows)} cells."))
    trained.table(["arch", "predicted (%)", "trained test (%)", "train seconds"],
                  [[r["arch"], r["predicted"], r["test_accuracy"], r["train_seconds"]] for r in rows])
    if len(rows) >= 2:
        trained.image(plot_scatter([r["predicted"] for r in rows], [r["test_accuracy"] for r in rows],
                                   figures / "predicted_vs_trained.png", title="predicted vs trained",
                                   xlabel="GCN prediction (%)", ylabel="trained from scratch, test (%)"))


def _lut_section(report: Report, info: dict[str, Any], space: Any) -> None:
    lut = report.section("Lookup table: top 10 under a latency bound")
    confidence = info.get("confidence", 0.0)
    bound = ("the upper end of each predicted cell at {:.0%} confidence, measured cells as measured; "
             "{} of the picks measured".format(confidence, info.get("picks_measured", 0)) if confidence
             else "point estimates")
    rows = (f"{info['rows']} rows (a pool of networks drawn from the {space.name!r} space, which cannot be listed)"
            if info.get("pool") else f"{info['rows']} rows")
    lut.text(f"{rows}; query: predicted accuracy, latency <= {info['latency_bound_ms']:.2f} ms "
             f"(the median; {bound}), one cell per isomorphism class.")
    lut.table(["arch", "accuracy", "latency_ms", "energy_mj", "params_m", "flops_m"],
              [[r[k] for k in ("arch", "accuracy", "latency_ms", "energy_mj", "params_m", "flops_m")]
               for r in info["top"]])


def _predictor_section(report: Report, store: RunStore, summary: dict[str, Any], stages: dict[str, Any],
                       figures: Path) -> None:
    fit = stages["predictor"]
    held = np.array(fit["heldout"], dtype=float)
    if "weights" in fit:  # the fused predictor
        predictor = report.section("Fused ranking: supernet, zero-cost proxies and anchors")
        predictor.text(f"<b>The accuracy column</b> of the lookup table is the {fit['accuracy_column']}.")
        predictor.text(f"{len(fit['anchors'])} anchors trained from scratch (in-sample Kendall tau of the fused "
                       f"ranking against them {fit['anchor_tau']:.3f}); {fit['guarded']} sampled cells without a live "
                       "convolution rank last (the collapse guard). On a held-out 20% of the sampled cells the GCN "
                       f"ranks the fused values with Kendall tau <b>{summary['predictor_kendall_tau_heldout']:.3f}</b>.")
        predictor.table(["signal", "weight"], [[k, v] for k, v in fit["weights"].items()])
        if fit["anchors"]:
            predictor.table(["anchor", "valid accuracy (%)"], fit["anchors"])
        axis = "fused value"
    else:
        predictor = report.section("GCN predictor vs supernet scores")
        predictor.text(f"<b>The accuracy column</b> of the lookup table is the GCN's prediction of the supernet "
                       f"score (inherited weights), fitted on {fit['n_train']} scored sub-networks; on a held-out "
                       f"20% it ranks them with Kendall tau <b>{summary['predictor_kendall_tau_heldout']:.3f}</b>.")
        axis = "supernet score (%)"
    predictor.image(plot_scatter(held[:, 1], held[:, 2], figures / "predictor_scatter.png",
                                 title=f"held-out sub-networks (tau {summary['predictor_kendall_tau_heldout']:.2f})",
                                 xlabel=axis, ylabel="GCN prediction"))
    latency = stages.get("latency")
    lut_meta = store.lut_meta()
    energy = ("Energy is the IMC crossbar model's estimate (not a measurement)." if lut_meta.get("energy") == "imc"
              else "Energy is the analytic estimate (not a measurement).")
    shape = "the C=16, N=5 network" if store.space.name == DEFAULT_SPACE else "the network at its default shape"
    if latency is None and lut_meta.get("latency") == "imc":
        predictor.text("Latency is the IMC crossbar model's estimate (<code>gcnas.hardware.imc</code>, ISAAC's "
                       "constants: analog crossbars, one inference at batch 1) of each network at its default "
                       f"shape, not a measurement. {energy}")
    elif latency is None:
        predictor.text(f"Latency comes from the table <code>{lut_meta.get('latency')}</code> (no measurement "
                       f"here). {energy}")
    else:
        predictor.text(f"Latency was measured on this CPU for {latency['measured']} architectures (median "
                       f"{latency['measured_median_ms']:.2f} ms, batch 1, {shape} at 32x32 input); a GCN "
                       f"fitted to them predicts the other cells, {100 * latency['heldout_within_10pct']:.0f}% of "
                       f"held-out measurements within ±10%. {energy}")


def _latent_section(report: Report, store: RunStore, figures: Path, map_points: int) -> None:
    latent = report.section("arch2vec latent space")
    archs, vectors = store.embeddings("arch2vec")
    if len(archs):
        from gcnas.encoders import latent_map

        values = store.lut_values(archs, "accuracy")
        latent.image(latent_map(vectors, values, figures / "latent_map.png", metric="predicted accuracy",
                                tsne_points=map_points))


def _training_section(report: Report, run_dir: Path, summary: dict[str, Any], figures: Path) -> None:
    training = report.section("Supernet training")
    history = _history(run_dir)
    gaea_history = _history(run_dir / "gaea")
    if history:
        training.image(plot_curves({"uniform": [h["loss"] for h in history],
                                    "GAEA": [h["loss"] for h in gaea_history]},
                                   figures / "supernet_loss.png", title="training loss", ylabel="loss"))
        training.image(plot_curves({"uniform": [h["accuracy"] for h in history],
                                    "GAEA": [h["accuracy"] for h in gaea_history]},
                                   figures / "supernet_accuracy.png", title="training accuracy",
                                   ylabel="accuracy (%)"))
    if gaea_history and gaea_history[-1].get("entropy") is not None:
        training.image(plot_curves({"GAEA": [h["entropy"] for h in gaea_history]}, figures / "gaea_entropy.png",
                                   title="GAEA: mean entropy of edge weights",
                                   ylabel="entropy (nats)"))
    if summary.get("gaea_derived"):
        training.text(f"GAEA derived <code>{summary['gaea_derived']}</code>.")


def _settings_section(report: Report, stages: dict[str, Any], settings: dict[str, Any], space: Any) -> None:
    intro = report.section("What ran: settings")
    fused = "weights" in stages.get("predictor", {})
    learned = ("those scores were fused with the parameter count and zero-cost proxies, weighted on a few cells "
               "trained from scratch (anchors), and a GCN learned the fused values and filled the lookup table"
               if fused else "a GCN learned those scores and filled the lookup table")
    if space.name == DEFAULT_SPACE:
        over, searched = "the 15,625 NAS-Bench-201 cells", "arch2vec gave the latent space for"
    else:
        over = f"the {space.name!r} space"
        searched = "the networks' graphs and costs were the features of"
    intro.text(f"A weight-sharing supernet over {over} was trained with uniform single-path "
               f"sampling; sub-networks were scored with inherited weights; {learned}; {searched} "
               "multi-objective Bayesian optimisation of predicted accuracy, latency and energy; the "
               "chosen cells were then trained from scratch (unless a truth table judged them).")
    intro.table(["setting", "value"], [[k, v] for k, v in settings.get("settings", {}).items()]
                + [["seed", settings.get("seed")], ["device", settings.get("device")]])


def _point(store: RunStore, arch: Any) -> tuple[float, float]:
    latency, accuracy = store.lut_values([arch], "latency_ms")[0], store.lut_values([arch], "accuracy")[0]
    return float(latency), float(accuracy)


def _front_codes(space: Any, trials) -> set[int]:
    from gcnas.search import pareto_mask

    if not trials:
        return set()
    signed = np.array([[t.objectives["accuracy"], -t.objectives["latency_ms"], -t.objectives["energy_mj"]]
                       for t in trials])
    mask = pareto_mask(signed)
    return {_code(space, t.arch) for t, keep in zip(trials, mask) if keep}


def _truth_section(report: Report, judged: dict[str, Any], figures: Path) -> None:
    """What a truth table says of the run: rankings, picks, regret under a latency bound."""
    column = judged["column"]
    true_name = f"true_{column}"
    section = report.section(f"Judged by truth ({column})")
    section.text("The truth table was read only after every stage had fitted and picked; it changed nothing "
                 "in the run. Kendall tau and Spearman of each ranking against the truth, precision@5% (share of "
                 "the predicted top 5% in the true top 5%), and Kendall tau within the true top 10%.")
    section.table(["ranking", "n", "Kendall tau", "Spearman", "precision@5%", "tau in true top 10%"],
                  [[name, r["n"], r["kendall_tau"], r["spearman"], r["precision_at_5"], r["top_kendall_tau"]]
                   for name, r in judged["rankings"].items()])
    section.table(["pick", "arch", "predicted (%)", "latency (ms)", f"true {column}"],
                  [[p["name"], p["arch"], p["predicted"], p["latency_ms"], p[true_name]] for p in judged["picks"]])
    bound = judged["bound_ms"]
    rows = []
    for key, label in (("true_best", "true best cell"), ("best_pick", "gcnas: best pick of the search"),
                       ("lut_top", "gcnas: lookup table's top cell"),
                       ("random_search", f"random search, {judged['random_search_evaluations']} supernet evaluations")):
        entry = judged.get(key)
        if entry is not None:
            rows.append([label, entry["arch"], entry["latency_ms"], entry[true_name], entry["regret"]])
    regret = report.section(f"Regret under a latency bound ({column})")
    regret.text(f"Under the latency bound {bound:.3g} ms (the lookup table's median): the true best cell, and "
                "the regret (true accuracy lost against it) of each way of choosing. The plot shows the true "
                "accuracy-latency front of the truth table and the true position of each pick.")
    regret.table(["chosen by", "arch", "latency (ms)", f"true {column}", "regret"], rows)
    front = np.array(judged["true_front"], dtype=float).reshape(-1, 2)
    cloud = np.array(judged["true_cloud"], dtype=float).reshape(-1, 2)
    points = np.concatenate([front, cloud])
    picks = {p["name"]: (p["latency_ms"], p[true_name]) for p in judged["picks"]}
    cost, acc = points[:, 0], points[:, 1]
    regret.image(plot_pareto(cost, acc, figures / "truth_front.png",
                              title=f"true {column} vs latency: the true front and the picks",
                              cost_label="latency (ms)", front=list(range(len(front))), chosen=picks,
                              points_label=f"{len(cloud)} random cells"))
