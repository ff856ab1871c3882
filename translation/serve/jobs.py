"""The work `translation serve` does on a worker thread, off the event loop: decode the upload (an image, a
label map's class ids for a label-map model, with an instance map for an --instance one, an image and its
mask for an inpainting model), run the loaded
model (in tiles where asked, or where the image is large and the net can take them), encode the PNG."""
from __future__ import annotations

import time

from translation.serve.catalog import CatalogError
from translation.serve.inpaint import decode_mask
from translation.serve.instance import decode_instance
from translation.serve.labels import coloured, decode_labels
from translation.serve.loaded import LoadedModels
from translation.serve.protocol import ApiError

# px of the output: images whose output is larger than this a side go in tiles (of AUTO_TILE px of output)
# unless told otherwise; for super-resolution models that is AUTO_TILE_ABOVE / scale px of input
AUTO_TILE_ABOVE, AUTO_TILE = 1024, 512
# the largest output the server makes (4096 x 4096, a 1024 px upload at x4): held whole in memory as it is
# blended and encoded, where one x4 of a 2,000 px photo (64 MP) would take gigabytes
MAX_OUTPUT_PIXELS = 4096 * 4096


def loaded(models: LoadedModels, model):
    """The model loaded (read from disk on its first use); 404 if its file now leads out of the folder."""
    try:
        return models.get(model.id)
    except CatalogError:  # replaced by a link out of the folder since it was listed
        raise ApiError(404, f"unknown model {model.id!r}: its file no longer lies in the folder served") from None


def run_translation(models: LoadedModels, model, job: dict, body: bytes, mask_body: bytes | None = None,
                    instance_body: bytes | None = None) -> tuple[bytes, float, str, int | None]:
    """On a worker thread: decode, translate with the loaded model, encode the PNG. `mask_body`: an inpainting
    model's mask file (inpaint.py); `instance_body`: an --instance model's instance map (instance.py), without
    which such a model takes the label map's own ids as its instance map."""
    from translation.data.io import encode_image
    from translation.inference.domain_translator import DomainRequest

    label_nc = model.info.get("label_nc") or 0
    image = decode_labels(body, label_nc) if label_nc else _decoded_image(body, model.info["input_nc"])
    mask = None if mask_body is None else decode_mask(mask_body)
    instance_ids = None
    if model.info.get("instance"):  # every region of one class one object, unless an instance map came
        instance_ids = image if instance_body is None else decode_instance(instance_body)
    entry = loaded(models, model)
    with entry.lock:
        try:
            if model.kind == "translate":
                translator = entry.translator(job["direction"], job["test_mode"], job["precision"])
                if label_nc and getattr(translator, "label_nc", 0) != label_nc:  # a file that cannot one-hot
                    raise ApiError(400, f"model {model.id}: its file reads label maps ({label_nc} classes) but "
                                        "cannot encode them; serve its checkpoint instead")
                _check_output_size(translator, image.shape[:2])
                tiling = _tiling(translator, job, image.shape[:2])
                if mask is not None:  # the image with its mask as a last channel, what inpainting nets read
                    image = translator.prepare(image, mask=mask, name="the uploaded image")
                elif instance_ids is not None:  # the boundaries of the whole map, before any tiles
                    image = translator.prepare(image, instance_ids, name="the uploaded label map")
            else:
                translator = entry.domain_translator(DomainRequest(job["to"], job["source"]), job["test_mode"],
                                                     job["precision"])
                tiling = None
        except ValueError as error:  # a precision the device cannot run, an ONNX file's fixed options, a mask
            raise ApiError(400, str(error)) from None  # or instance map of another size than its input
        start = time.perf_counter()
        tiled = tiling is not None and tiling.needed(*image.shape[:2])
        if tiled:
            out = translator.translate_tiled(image, tiling, job["seed"])
        elif mask is not None or instance_ids is not None:  # prepared above
            out = translator.translate_batch([image], [job["seed"]])[0]
        else:
            out = translator.translate(image, job["seed"])
        elapsed = time.perf_counter() - start
    return encode_image(".png", out), elapsed, translator.weights, tiling.tile if tiled else None


def _decoded_image(body: bytes, channels: int):
    from translation.data.arrays import decode_channels
    from translation.data.io import ImageReadError

    try:
        return decode_channels(body, channels, name="the uploaded image")
    except ImageReadError as error:
        raise ApiError(400, str(error)) from None


def run_label_colours(body: bytes, label_nc: int) -> bytes:
    """On a worker thread: an uploaded label map as a PNG in the class colours (the page shows it so)."""
    from translation.data.io import encode_image

    return encode_image(".png", coloured(decode_labels(body, label_nc), label_nc))


def _check_output_size(translator, size: tuple[int, int]) -> None:
    """Refuse (400) an upload whose super-resolution output (scale^2 x its own pixels) would exceed
    MAX_OUTPUT_PIXELS, saying the largest input the model takes and the command that upscales any size offline.
    Other models give what they were given, which the upload limit bounds already."""
    scale = translator.scale
    height, width = size
    pixels = scale * height * scale * width
    if scale == 1 or pixels <= MAX_OUTPUT_PIXELS:
        return
    most = int((MAX_OUTPUT_PIXELS / (scale * scale)) ** 0.5)
    raise ApiError(400, f"this {width} x {height} image would give a {scale * width} x {scale * height} output "
                        f"({pixels / 1e6:.1f} MP), over this server's {MAX_OUTPUT_PIXELS / 1e6:.1f} MP: send at most "
                        f"{most * most / 1e6:.1f} MP (e.g. {most} x {most}), or upscale it with `translation "
                        "translate CHECKPOINT INPUT OUTPUT --tile 256`, which writes any size in bounded memory")


def _tiling(translator, job: dict, size: tuple[int, int]):
    """The tiles asked for; none asked, an image whose output is over AUTO_TILE_ABOVE px a side gets tiles of
    AUTO_TILE px of output where the net can take them (one forward over a phone photo would take gigabytes),
    else is translated whole."""
    tile, scale = job["tile"], translator.scale
    if tile is None and scale * max(size) > AUTO_TILE_ABOVE:
        auto = AUTO_TILE // scale
        try:
            return translator.tiling(auto, _default_overlap(translator, auto))
        except ValueError:  # batch norm seeing each tile, an ONNX file of fixed size: the image whole
            return None
    if tile is None:
        return None
    overlap = job["tile_overlap"]
    try:
        return translator.tiling(tile, _default_overlap(translator, tile) if overlap is None else overlap)
    except ValueError as error:
        raise ApiError(400, str(error).replace("--tile-overlap", "tile_overlap").replace("--tile", "tile")) from None


def _default_overlap(translator, tile: int) -> int:
    """translate's 32 px, or a quarter of the tile for a U-Net, which sees all of each tile."""
    from translation.inference.tiles import UNET_OVERLAP_FRACTION

    unet = translator.spec.get("name", "").startswith("unet_")
    return min(tile // 2, max(32, int(UNET_OVERLAP_FRACTION * tile)) if unet else 32)


def run_sampling(models: LoadedModels, model, job: dict) -> tuple[bytes, float, str]:
    from translation.data.io import encode_image
    from translation.inference.sampling import draw, grid

    entry = loaded(models, model)
    with entry.lock:
        try:
            sampler = entry.sampler(job["precision"])
        except ValueError as error:
            raise ApiError(400, str(error)) from None
        start = time.perf_counter()
        images, columns = draw(sampler, job["n"], job["seed"], job["truncation"], job["label"])
        elapsed = time.perf_counter() - start
    return encode_image(".png", grid(images, columns)), elapsed, sampler.weights
