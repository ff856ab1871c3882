"""The benchmark's bar chart, drawn with PIL (a project dependency; matplotlib is not).

One horizontal bar per row that has a FLOP count: its achieved GFLOP/s as a share of the matmul peak of its
precision (the scale all rows share), labelled with GFLOP/s and images/s; a dashed line marks the 70% target.
"""
from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from translation.utils.files import atomic_path

COLOURS = {"fp32": (90, 120, 200), "bf16": (220, 120, 50), "onnx": (70, 160, 90)}
ROW_HEIGHT, LABEL_WIDTH, BAR_WIDTH, VALUE_WIDTH, MARGIN = 22, 560, 420, 230, 12


def draw_chart(rows: list[dict], title: str, path: Path, target: float = 0.7) -> int:
    """Write the chart of `rows` (the JSON rows) to `path` (PNG); returns the number of bars drawn."""
    rows = [row for row in rows if row.get("fraction_of_peak") is not None]
    font = ImageFont.load_default(size=14)
    scale = max([1.0] + [row["fraction_of_peak"] for row in rows])  # a row above its matmul peak still fits
    width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH + 2 * MARGIN
    height = (len(rows) + 3) * ROW_HEIGHT + 2 * MARGIN
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((MARGIN, MARGIN), title, fill="black", font=font)
    x = MARGIN + LABEL_WIDTH
    for kind, colour in COLOURS.items():  # the legend
        draw.rectangle([x, MARGIN + 3, x + 12, MARGIN + 15], fill=colour)
        draw.text((x + 16, MARGIN), "ONNX Runtime" if kind == "onnx" else kind, fill="black", font=font)
        x += 24 + int(draw.textlength("ONNX Runtime" if kind == "onnx" else kind, font=font))
    left = MARGIN + LABEL_WIDTH
    axis_y = MARGIN + (len(rows) + 2) * ROW_HEIGHT
    for tick in [t / 4 for t in range(int(scale * 4) + 1)]:
        x = left + int(BAR_WIDTH * tick / scale)
        draw.line([(x, MARGIN + 2 * ROW_HEIGHT - 4), (x, axis_y)], fill=(225, 225, 225))
        draw.text((x - 12, axis_y + 2), f"{tick:.0%}", fill="black", font=font)
    x = left + int(BAR_WIDTH * target / scale)
    for y in range(MARGIN + ROW_HEIGHT + 14, axis_y, 8):  # dashed: PIL draws no dashes itself
        draw.line([(x, y), (x, y + 4)], fill=(200, 0, 0), width=2)
    draw.text((left, MARGIN + ROW_HEIGHT), f"share of the matmul peak of the row's precision (red: {target:.0%})",
              fill="black", font=font)
    for i, row in enumerate(rows):
        y = MARGIN + (i + 2) * ROW_HEIGHT
        kind = "onnx" if "ONNX" in row["name"] else row["precision"]
        draw.text((MARGIN, y + 3), _fit(draw, row["name"], font, LABEL_WIDTH - 8), fill="black", font=font)
        draw.rectangle([left, y + 3, left + max(1, int(BAR_WIDTH * row["fraction_of_peak"] / scale)),
                        y + ROW_HEIGHT - 3], fill=COLOURS.get(kind, (128, 128, 128)))
        value = f"{row['gflops']:.3g} GFLOP/s, {row['images_per_s']:.3g} img/s"
        draw.text((left + BAR_WIDTH + 8, y + 3), value, fill="black", font=font)
    with atomic_path(Path(path)) as tmp:
        image.save(tmp, format="PNG")
    return len(rows)


def _fit(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> str:
    """`text`, shortened with an ellipsis until it fits `width` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "...", font=font) > width:
        text = text[:-1]
    return text + "..."
