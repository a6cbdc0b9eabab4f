"""SpaceTable: a benchmark CSV of any space, cells found by space.key; a column of it is an objective."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from gcnas.exceptions import InvalidInputError, NotInTableError
from gcnas.search import SpaceTable, TableObjective
from gcnas.spaces import get_space

SPACE = get_space("darts")


def _write(path, cells, values, arch_column="genotype"):
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([arch_column, "val_accuracy", "zen"])
        for cell, value in zip(cells, values):
            writer.writerow([SPACE.format(cell), value, ""])
    return path


def _reversed_pairs(genotype):
    """The same genotype with each node's two pairs written the other way round (same key)."""
    flip = lambda pairs: [p for k in range(0, len(pairs), 2) for p in (pairs[k + 1], pairs[k])]  # noqa: E731
    return type(genotype)(normal=flip(list(genotype.normal)), reduce=flip(list(genotype.reduce)))


def test_cells_are_found_by_key_and_empty_cells_read_as_nan(tmp_path):
    cells = [SPACE.sample(i) for i in range(3)]
    table = SpaceTable(_write(tmp_path / "t.csv", cells, [91.5, 92.0, 93.25]), "darts", arch_column="genotype")
    assert len(table) == 3 and table.columns == ["val_accuracy", "zen"]
    written_otherwise = _reversed_pairs(cells[2])
    assert written_otherwise != cells[2] and SPACE.key(written_otherwise) == SPACE.key(cells[2])
    assert table.values([written_otherwise, cells[0]], "val_accuracy").tolist() == [93.25, 91.5]
    assert np.isnan(table.column("zen")).all()
    stranger = SPACE.sample(99)
    assert np.isnan(table.values([stranger], "val_accuracy", missing=np.nan)[0])
    with pytest.raises(NotInTableError, match="1 cell"):
        table.values([stranger], "val_accuracy")


def test_a_column_is_a_table_objective(tmp_path):
    cells = [SPACE.sample(i) for i in range(3)]
    table = SpaceTable(_write(tmp_path / "t.csv", cells, [91.5, 92.0, 93.25]), "darts", arch_column="genotype")
    accuracy = TableObjective("val_accuracy", table=table)
    assert accuracy(cells[::-1]).tolist() == [93.25, 92.0, 91.5]
    assert accuracy.known_values(cells).tolist() == [91.5, 92.0, 93.25]
    assert accuracy.identity()["table"]["path"] == str((tmp_path / "t.csv").resolve())


def test_bad_tables_are_refused_naming_the_line(tmp_path):
    cells = [SPACE.sample(i) for i in range(2)]
    with pytest.raises(InvalidInputError, match="no column 'arch'"):
        SpaceTable(_write(tmp_path / "a.csv", cells, [1, 2]), "darts")
    with pytest.raises(InvalidInputError, match="lines 2 and 3 hold the same darts cell"):
        SpaceTable(_write(tmp_path / "b.csv", [cells[0], _reversed_pairs(cells[0])], [1, 2]), "darts",
                   arch_column="genotype")
    with pytest.raises(InvalidInputError, match="line 3, column val_accuracy: 'high' is not a number"):
        SpaceTable(_write(tmp_path / "c.csv", cells, [1, "high"]), "darts", arch_column="genotype")
    bad = tmp_path / "d.csv"
    bad.write_text("genotype,val_accuracy\nGenotype(normal=nonsense),1\n")
    with pytest.raises(InvalidInputError, match="line 2"):
        SpaceTable(bad, "darts", arch_column="genotype")


def test_a_table_spec_of_another_space_reads_its_genotype_column(tmp_path):
    from gcnas.search.specs import objective_from_spec

    cells = [SPACE.sample(i) for i in range(3)]
    path = _write(tmp_path / "t.csv", cells, [91.5, 92.0, 93.25])
    accuracy = objective_from_spec(f"table:{path}:val_accuracy", name="accuracy", space="darts")
    assert accuracy.name == "accuracy" and accuracy(cells[1:2]).tolist() == [92.0]
    with pytest.raises(InvalidInputError, match="reads its tables as table:CSV:COLUMN"):
        objective_from_spec("nb201:cifar10:valid_acc", space="darts")
