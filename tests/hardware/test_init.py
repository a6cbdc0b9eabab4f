"""The public surface of gcnas.hardware."""

import gcnas.hardware


def test_all_names_exist():
    for name in gcnas.hardware.__all__:
        assert hasattr(gcnas.hardware, name), name
    assert {"cost_table", "costs", "measure_latency"} <= set(gcnas.hardware.__all__)
