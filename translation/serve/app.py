"""The Starlette app of `translation serve`: the page, the HTTP API, and the limits around them.

Routes (README "Serving models" has curl examples; /api/openapi.json describes them):
  GET  /                            the page (static/index.html), GET /static/... its files
  GET  /api/models                  {"models": [entry, ...]}: what catalog.py found
  GET  /api/models/{id}/sheet       the run's latest training sheet (PNG)
  POST /api/translate?model=ID&...  body: an image's bytes; answer: the translated PNG at the input's size
                                    (scale x it for super-resolution models: the listing's scale); inpainting
                                    models: a form of image and mask (inpaint.py); --instance models: a form
                                    of label and instance maps, or the label map alone (instance.py)
  POST /api/sample?model=ID&n=16... a PNG grid drawn from a noise GAN
  POST /api/labels?model=ID         label-map models: the map in the body in its class colours (PNG)
  GET  /api/openapi.json            OpenAPI, from the endpoints' docstrings

Errors are JSON {"error": "one sentence"}: 400 bad image or parameter (named), 401 token, 404 unknown model,
413 body over the limit (from Content-Length, else counted while it streams in, before it is whole), 503 with
Retry-After when the work queue is full, 500 with the exception's message. Every response carries a content
security policy that allows the page's own files only, nosniff and no referrer; CORS only for --cors-origin.
Uploads are decoded in memory and never written to disk.
"""
from __future__ import annotations

import sys
import traceback
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import wraps
from pathlib import Path

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.schemas import SchemaGenerator
from starlette.staticfiles import StaticFiles

from translation import __version__
from translation.serve.catalog import find_models
from translation.serve.inpaint import image_and_mask, is_form
from translation.serve.instance import FROM_LABELS, UPLOADED, label_and_instance
from translation.serve.jobs import run_label_colours, run_sampling, run_translation
from translation.serve.loaded import LoadedModels
from translation.serve.protocol import ApiError, Query, check_token, error_response, read_body
from translation.serve.work import Busy, WorkPool

STATIC = Path(__file__).parent / "static"
SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; img-src 'self' blob: data:; style-src 'self'; "
                                "script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
                                "frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
MAX_SAMPLES = 256


@dataclass
class Server:
    """What the endpoints share: the catalog, the loaded models, the pool, the limits."""
    models: LoadedModels
    pool: WorkPool
    max_upload_mb: float
    token: str | None

    @property
    def catalog(self) -> dict:
        return self.models.catalog


def api(endpoint):
    """An API endpoint: the token checked first, ApiError and Busy answered as JSON, anything else a 500 whose
    message says what happened (and a traceback on the server's stderr)."""
    @wraps(endpoint)
    async def wrapper(request: Request):
        server: Server = request.app.state.server
        try:
            if server.token is not None:
                check_token(request, server.token)
            return await endpoint(request, server)
        except ApiError as error:
            return error_response(error.status, error.message, error.headers)
        except Busy as error:
            return error_response(503, str(error), {"Retry-After": "1"})
        except ClientDisconnect:  # the client left while sending: no one to answer
            return Response(status_code=400)
        except Exception as error:  # noqa: BLE001 (never a silent 500: the message goes to the client)
            traceback.print_exc(file=sys.stderr)
            return error_response(500, f"internal error: {type(error).__name__}: {error}")
    return wrapper




def model_of(query: Query, server: Server, kinds: tuple[str, ...]):
    model_id = query.text("model")
    if model_id is None:
        raise ApiError(400, "model: missing; GET /api/models lists the ids")
    model = server.catalog.get(model_id)
    if model is None:  # ids are looked up, never joined to a path
        raise ApiError(404, f"unknown model {model_id!r}; GET /api/models lists the ids")
    if model.kind not in kinds:
        does = "draws images from noise: POST /api/sample" if model.kind == "sample" else \
            "translates images: POST /api/translate"
        raise ApiError(400, f"model {model_id}: this model {does}")
    if model.info.get("unavailable"):
        raise ApiError(400, f"model {model_id}: {model.info['unavailable']}")
    return model


def check_room(server: Server) -> None:
    """Refuse before reading a body that would only wait in a full queue."""
    if server.pool.pending >= server.pool.capacity:
        raise Busy("busy: every worker is running and the queue is full; try again in a moment")


# --- endpoints -----------------------------------------------------------------------------------------------
@api
async def list_models(request: Request, server: Server):
    """The models this server offers.
    ---
    summary: The models this server offers (ids for the other endpoints)
    responses:
      200: {description: '{"models": [{"id", "model", "kind", "directions"|"domains"|"classes", ...}]}'}
    """
    return JSONResponse({"models": [model.info for model in server.catalog.values()]},
                        headers={"Cache-Control": "no-store"})


@api
async def sheet(request: Request, server: Server):
    """A run's latest training sheet.
    ---
    summary: The run's latest training sheet (PNG)
    responses:
      200: {description: image/png}
      404: {description: 'unknown model, or no sheet'}
    """
    model_id = request.path_params["model_id"]
    model = server.catalog.get(model_id)
    path = model.latest_sheet() if model else None
    if path is None:
        raise ApiError(404, f"unknown model {model_id!r}" if model is None else f"{model_id}: no training sheet yet")
    return FileResponse(path, media_type="image/png")


TRANSLATE_PARAMS = ("model", "direction", "to", "from", "test_mode", "precision", "seed", "tile", "tile_overlap")


@api
async def translate(request: Request, server: Server):
    """Translate the image in the body.
    ---
    summary: Translate the image sent as the body (PNG, JPEG, WebP, ...) into a PNG of the same size (scale x
      its height and width for a super-resolution model, whose listing says scale); a label-map
      model (reads label_map in the listing) takes a 1-channel map of class ids 0..label_nc-1 (8- or 16-bit gray
      PNG, or palette indices), and one trained with --instance (instance in the listing) multipart/form-data
      with the files label and instance (1-channel ids, the same size), or the label map alone, whose class
      boundaries then stand for the instances (the header X-Instance says from-labels); an inpainting model
      (inpaints in the listing) takes multipart/form-data with the
      files image and mask (1-channel, white = fill, the image''s size) and gives the image with the holes
      filled, every other pixel the input''s
    parameters:
      - {name: model, in: query, required: true, schema: {type: string}}
      - {name: direction, in: query, schema: {type: string, enum: [AtoB, BtoA]}}
      - {name: to, in: query, description: 'StarGAN: target names, comma-separated, or all (a sheet)',
         schema: {type: string}}
      - {name: from, in: query, description: 'StarGAN: what the input is (default: its classifier reads it)',
         schema: {type: string}}
      - {name: test_mode, in: query, schema: {type: string, enum: [paper, eval]}}
      - {name: precision, in: query, schema: {type: string, enum: [fp32, bf16, fp16]}}
      - {name: seed, in: query, schema: {type: integer, minimum: 0}}
      - {name: tile, in: query, description: translate in overlapping tiles of this size, schema: {type: integer}}
      - {name: tile_overlap, in: query, schema: {type: integer}}
    requestBody: {required: true, content: {'image/*': {schema: {type: string, format: binary}},
      'multipart/form-data': {schema: {type: object, properties: {image: {type: string, format: binary},
      mask: {type: string, format: binary}, label: {type: string, format: binary},
      instance: {type: string, format: binary}}}}}}
    responses:
      200: {description: 'image/png; headers X-Elapsed-Ms (model time), X-Weights (ema or raw), X-Tiles (the tile
        size in input px, when tiled: asked for, or automatic for outputs above 1024 px a side), X-Instance
        (--instance models: uploaded, or from-labels)'}
      400: {description: 'unreadable image, bad parameter, an inpainting model without a mask or with a mask of
        another size or in colour, a label map in colour or with an id outside 0..label_nc-1, a form without
        its label or instance map, an instance map in colour or of another size, a super-resolution output over
        16.8 MP, or a model the server cannot use (its reason)'}
      401: {description: missing or wrong token}
      404: {description: unknown model}
      413: {description: body over --max-upload-mb}
      503: {description: busy (Retry-After)}
    """
    query = Query(request, TRANSLATE_PARAMS)
    model = model_of(query, server, ("translate", "translate_to_domain"))
    info = model.info
    job = {"test_mode": query.choice("test_mode", info["test_modes"], "this model's test modes are"),
           "precision": query.choice("precision", info["precisions"], "this model runs in") or "fp32",
           "seed": query.integer("seed", 0, 0, 2 ** 31 - 1)}
    if model.kind == "translate":
        for name in ("to", "from"):
            if query.text(name) is not None:
                directions = ", ".join(info["directions"])
                raise ApiError(400, f"{name}: this model translates between two domains ({directions}); "
                                    "choose with direction")
        job["direction"] = query.choice("direction", info["directions"], "this model translates")
        job["tile"] = query.integer("tile", None, 32, 16384)
        job["tile_overlap"] = query.integer("tile_overlap", None, 0)
        if job["tile_overlap"] is not None and job["tile"] is None:
            raise ApiError(400, "tile_overlap: goes with tile (the tile size)")
    else:
        for name in ("direction", "tile", "tile_overlap"):
            if query.text(name) is not None:
                raise ApiError(400, f"{name}: this model translates to named domains ({', '.join(info['domains'])}); "
                                    "say which with to")
        job["to"] = _targets(query.names("to"), info)
        job["source"] = query.names("from")
        for name in job["source"] or []:
            if name not in info["domains"]:
                raise ApiError(400, f"from={name}: not a domain of this model; it knows {', '.join(info['domains'])}")
    check_room(server)
    body = await read_body(request, server.max_upload_mb)
    content_type = request.headers.get("content-type")
    mask = instance = None
    if info.get("inpaints"):
        body, mask = image_and_mask(body, content_type)
    elif info.get("instance"):
        body, instance = label_and_instance(body, content_type)
    elif is_form(content_type):  # a form carries a second file, which this model has no use for
        what = ("reads a label map alone (it was trained without --instance): send the map's" if info.get("label_nc")
                else "does not inpaint and reads no mask: send the image's")
        raise ApiError(400, f"model {model.id}: this model {what} bytes as the body (curl --data-binary @photo.png)")
    png, elapsed, weights, tile = await server.pool.run(run_translation, server.models, model, job, body, mask,
                                                        instance)
    extra = {"X-Tiles": str(tile)} if tile else {}
    if info.get("instance"):  # where the boundaries came from: the instance map sent, or the label map's own
        extra["X-Instance"] = UPLOADED if instance is not None else FROM_LABELS
    return Response(png, media_type="image/png", headers={
        "X-Elapsed-Ms": f"{elapsed * 1000:.1f}", "X-Weights": weights, "Cache-Control": "no-store", **extra})


def _targets(names: list[str] | None, info: dict) -> list[str]:
    domains = info["domains"]
    if not names:
        raise ApiError(400, f"to: missing; name the domains to translate to ({', '.join(domains)}), or all")
    if "all" in names:
        if len(names) > 1:
            raise ApiError(400, "to=all stands alone (a sheet with every domain)")
        return names
    unknown = [name for name in names if name not in domains]
    if unknown:
        raise ApiError(400, f"to={unknown[0]}: not a domain of this model; it knows {', '.join(domains)} (or all)")
    if info["label_kind"] == "single_label" and len(names) > 1:
        raise ApiError(400, f"to={','.join(names)}: this model's domains are exclusive: name one, or all")
    return names


@api
async def label_colours(request: Request, server: Server):
    """A label map in the model's class colours.
    ---
    summary: 'Label-map models: the label map in the body (class ids) as a PNG in the class colours of the
      listing''s label_colours (the page shows uploads so); the same checks as translate'
    parameters:
      - {name: model, in: query, required: true, schema: {type: string}}
    requestBody: {required: true, content: {'image/*': {schema: {type: string, format: binary}}}}
    responses:
      200: {description: image/png}
      400: {description: 'not a label-map model, not a 1-channel map of ids, or an id the model has no class for'}
      404: {description: unknown model}
    """
    model = model_of(Query(request, ("model",)), server, ("translate",))
    label_nc = model.info.get("label_nc") or 0
    if not label_nc:
        raise ApiError(400, f"model {model.id}: this model reads images, not label maps")
    check_room(server)
    body = await read_body(request, server.max_upload_mb)
    png = await server.pool.run(run_label_colours, body, label_nc)
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})


SAMPLE_PARAMS = ("model", "n", "seed", "label", "truncation", "precision")


@api
async def sample(request: Request, server: Server):
    """Draw a grid from a noise GAN.
    ---
    summary: Draw n images from a noise GAN as one PNG grid
    parameters:
      - {name: model, in: query, required: true, schema: {type: string}}
      - {name: n, in: query, schema: {type: integer, minimum: 1, maximum: 256, default: 16}}
      - {name: seed, in: query, schema: {type: integer, minimum: 0, default: 0}}
      - {name: label, in: query, description: 'a class by name or index (default: the classes in turn)',
         schema: {type: string}}
      - {name: truncation, in: query, schema: {type: number, exclusiveMinimum: 0}}
      - {name: precision, in: query, schema: {type: string, enum: [fp32, bf16, fp16]}}
    responses:
      200: {description: image/png}
      400: {description: bad parameter}
      404: {description: unknown model}
      503: {description: busy (Retry-After)}
    """
    query = Query(request, SAMPLE_PARAMS)
    model = model_of(query, server, ("sample",))
    info = model.info
    job = {"n": query.integer("n", 16, 1, MAX_SAMPLES), "seed": query.integer("seed", 0, 0, 2 ** 31 - 1),
           "truncation": query.positive("truncation"), "label": query.text("label"),
           "precision": query.choice("precision", info["precisions"], "this model runs in") or "fp32"}
    classes = info.get("classes") or []
    if job["label"] is not None:
        if not classes:
            raise ApiError(400, "label: this model is not conditional (it was trained without labels)")
        if job["label"] not in classes and not (job["label"].isdigit() and int(job["label"]) < len(classes)):
            raise ApiError(400, f"label={job['label']}: this model's classes are {', '.join(classes)} "
                                f"(or 0 to {len(classes) - 1})")
    check_room(server)
    png, elapsed, weights = await server.pool.run(run_sampling, server.models, model, job)
    return Response(png, media_type="image/png", headers={
        "X-Elapsed-Ms": f"{elapsed * 1000:.1f}", "X-Weights": weights, "Cache-Control": "no-store"})


async def openapi(request: Request):
    schema = SchemaGenerator({"openapi": "3.0.0", "info": {"title": "translation serve", "version": __version__}})
    return JSONResponse(schema.get_schema(routes=request.app.routes))


async def page(request: Request):
    index = STATIC / "index.html"
    if not index.is_file():
        return error_response(404, "the page is not installed (translation/serve/static/index.html)")
    return FileResponse(index, media_type="text/html")


async def not_found(request: Request, error: HTTPException):
    return error_response(error.status_code, error.detail or "not found", getattr(error, "headers", None))


# --- headers -------------------------------------------------------------------------------------------------
class SecurityHeaders:
    """Adds SECURITY_HEADERS to every HTTP response (errors and static files included)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message):
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
            await send(message)

        return await self.app(scope, receive, with_headers)


def create_app(paths: list[str], *, max_models: int = 4, workers: int = 1, queue: int = 8,
               max_upload_mb: float = 25, token: str | None = None, cors_origin: str | None = None,
               device: str = "auto") -> Starlette:
    """The app serving the models under `paths` (run folders found recursively, or checkpoint/ONNX files).
    Models are listed now and loaded on their first request."""
    from translation.utils.device import select_device

    torch_device = select_device(device)
    catalog = find_models([str(p) for p in paths], torch_device.type)
    server = Server(LoadedModels(catalog, torch_device, max_models), WorkPool(workers, queue),
                    max_upload_mb, token or None)

    @asynccontextmanager
    async def lifespan(app):
        yield
        server.pool.close()

    middleware = [Middleware(SecurityHeaders)]
    if cors_origin:  # no CORS headers at all unless asked for: other sites' pages cannot read the API
        middleware.append(Middleware(CORSMiddleware, allow_origins=[cors_origin], allow_methods=["GET", "POST"],
                                     allow_headers=["Authorization", "Content-Type"],
                                     expose_headers=["X-Elapsed-Ms", "X-Weights", "X-Tiles"]))
    routes = [
        Route("/", page, include_in_schema=False),
        Route("/api/models", list_models),
        Route("/api/models/{model_id:path}/sheet", sheet),
        Route("/api/translate", translate, methods=["POST"]),
        Route("/api/sample", sample, methods=["POST"]),
        Route("/api/labels", label_colours, methods=["POST"]),
        Route("/api/openapi.json", openapi, include_in_schema=False),
        Mount("/static", StaticFiles(directory=STATIC, check_dir=False), name="static"),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan,
                    exception_handlers={HTTPException: not_found})
    app.state.server = server
    return app
