"""tools/benchmark.py: its quick mode writes the rows it prints to JSON and a PNG chart; FLOPs are counted
right. No timing is asserted: the figures are a shared machine's."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from PIL import Image

TOOLS = Path(__file__).resolve().parents[1] / "tools"
sys.path.insert(0, str(TOOLS))

from bar_chart import MARGIN, ROW_HEIGHT  # noqa: E402
from measure import count_flops  # noqa: E402


def test_flops_are_counted_forward_backward_and_through_a_gradient_penalty():
    conv = torch.nn.Conv2d(3, 8, kernel_size=3, padding=1, bias=False)
    x = torch.randn(2, 3, 16, 16, requires_grad=True)
    forward = 2 * 3 * 8 * 9 * 16 * 16 * 2  # 2 x multiply-adds, batch 2
    assert count_flops(lambda: conv(x)) == forward
    # backward: the gradients of the input and of the weight, each as costly as the forward
    assert count_flops(lambda: conv(x).sum().backward()) == 3 * forward

    def gradient_penalty():  # what FlopCounterMode's module tracker cannot run (create_graph=True)
        (grad,) = torch.autograd.grad(conv(x).square().sum(), x, create_graph=True)
        grad.square().sum().backward()

    assert count_flops(gradient_penalty) > 3 * forward


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory, request):
    folder = tmp_path_factory.mktemp("benchmark")
    command = [sys.executable, str(TOOLS / "benchmark.py"), "--quick", "--sections", "steps,generators",
               "--only", "StarGAN", "--variants", "fp32,bf16", "--device", "cpu",
               "--json", str(folder / "rows.json"), "--chart", str(folder / "chart.png")]
    # stopped well before pytest-timeout would kill this test, so that a slow run still shows what it printed
    limit = 0.8 * float(request.config.getoption("timeout", None) or request.config.getini("timeout") or 300)
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=limit)
    except subprocess.TimeoutExpired as slow:
        printed = [text.decode() if isinstance(text, bytes) else text or "" for text in (slow.stdout, slow.stderr)]
        pytest.fail(f"tools/benchmark.py --quick ran past {limit:.0f} s; what it printed so far:\n"
                    f"{printed[0]}\nstderr:\n{printed[1]}")
    assert out.returncode == 0, out.stderr
    return out.stdout, json.loads((folder / "rows.json").read_text()), folder / "chart.png"


def test_quick_mode_writes_every_row_with_its_figures(quick_run):
    stdout, result, _ = quick_run
    machine, rows = result["machine"], result["rows"]
    assert machine["torch"] == torch.__version__ and machine["threads"] >= 1
    peaks = machine["matmul_peak_gflops"]
    assert set(peaks) == {"fp32", "bf16"} and min(peaks.values()) > 0
    measured = [row for row in rows if row["section"] != "peak"]
    assert [(row["section"], row["precision"]) for row in measured] == \
        [("steps", "fp32"), ("steps", "bf16"), ("generators", "fp32"), ("generators", "bf16")]
    for row in measured:
        assert row["name"] in stdout and row["device_name"] == machine["device_name"]
        assert row["seconds"] > 0 and row["peak_memory_gb"] > 0.05  # a fresh process holds torch at least
        assert row["gflops"] == pytest.approx(row["gflop_per_call"] * row["images_per_s"] / images_per_call(row))
        # against the best matmul rate of the run so far, its own group's rounds included
        assert 0 < row["matmul_peak_gflops"] <= peaks[row["precision"]]
        assert row["fraction_of_peak"] == pytest.approx(row["gflops"] / row["matmul_peak_gflops"])
    steps, generators = measured[:2], measured[2:]
    # one steps call is StarGAN's n_critic cycle, 5 steps of batch 2: seconds are per step
    assert all(row["images_per_s"] * row["seconds"] == pytest.approx(2) for row in steps)
    # the FLOPs are the architecture's, shared by its variants; a train step costs more than a forward
    assert steps[0]["gflop_per_call"] == steps[1]["gflop_per_call"] > 5 * generators[0]["gflop_per_call"]
    assert generators[0]["gflop_per_call"] == generators[1]["gflop_per_call"] > 0


def images_per_call(row: dict) -> int:
    return 10 if row["section"] == "steps" else 2  # quick StarGAN: batch 2, 5 steps a call


def test_quick_mode_draws_one_bar_per_measured_row(quick_run):
    stdout, result, chart = quick_run
    bars = sum(row["fraction_of_peak"] is not None for row in result["rows"])
    assert f"wrote {bars} bars to {chart}" in stdout
    image = Image.open(chart)
    assert image.format == "PNG" and image.height == (bars + 3) * ROW_HEIGHT + 2 * MARGIN
    assert len(image.convert("RGB").getcolors(2**16)) > 10  # text and bars, not a blank page
