"""`translation serve`'s HTTP API, in process (Starlette's TestClient) on tiny real runs: every status it
answers, round trips equal to what the inference code gives for the same image, the limits, the token, the
ids (never a path), the bounded queue and the event loop that stays free while a model runs."""
from __future__ import annotations

import asyncio
import os
import shutil
import sys
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest

with warnings.catch_warnings():  # Starlette 1.x would rather its TestClient ran on httpx2; httpx works the same
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient` is deprecated")
    from starlette.testclient import TestClient

from serve_fixtures import LABEL_NC, inpaint_run, label_map_run, make_runs

from translation.data.arrays import read_channels
from translation.data.io import decode_image, encode_image
from translation.data.label_maps import decode_id_map, label_colours, read_id_map
from translation.inference.domain_translator import DomainRequest, load_domain_translator
from translation.inference.sampling import draw, grid, load_sampler
from translation.inference.translator import load_translator
from translation.serve import loaded as loaded_module
from translation.serve.app import SECURITY_HEADERS, create_app
from translation.serve.catalog import training_size

HEIGHT, WIDTH = 37, 53  # odd, and no multiple of any net's size multiple


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("serve")
    make_runs(root)
    return root / "runs"


@pytest.fixture(scope="module")
def client(runs):
    with TestClient(create_app([runs], device="cpu")) as client:
        yield client


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> Path:
    """A 37 x 53 PNG on disk, for the inference code's own reading."""
    rng = np.random.default_rng(7)
    path = tmp_path_factory.mktemp("photo") / "photo.png"
    path.write_bytes(encode_image(".png", rng.random((HEIGHT, WIDTH, 3)).astype(np.float32)))
    return path


def post(client, path: str, body: bytes = b"", **headers):
    return client.post(path, content=body, headers=headers)


def error_of(response, status: int) -> str:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"] == "application/json"
    return response.json()["error"]


# --- listing -------------------------------------------------------------------------------------------------
def test_the_listing_says_what_each_model_is_and_what_its_controls_need(client):
    response = client.get("/api/models")
    assert response.status_code == 200
    models = {m["id"]: m for m in response.json()["models"]}
    assert sorted(models) == ["cgan", "cyclegan", "pix2pix", "stargan"]
    assert (models["pix2pix"]["model"], models["pix2pix"]["kind"]) == ("pix2pix", "translate")
    assert models["pix2pix"]["directions"] == ["AtoB"] and models["pix2pix"]["size_multiple"] == 32
    assert models["pix2pix"]["test_mode"] == "paper" and models["pix2pix"]["step"] == 1
    assert models["cyclegan"]["directions"] == ["AtoB", "BtoA"] and models["cyclegan"]["size_multiple"] == 4
    star = models["stargan"]
    assert star["kind"] == "translate_to_domain" and star["label_kind"] == "multi_label"
    assert star["domains"] == ["Black_Hair", "Blond_Hair", "Young"]
    assert star["exclusive"] == [["Black_Hair", "Blond_Hair"]]
    gan = models["cgan"]
    assert (gan["kind"], gan["z_dim"], gan["classes"]) == ("sample", 8, ["dark", "light"])
    assert all(m["small"] and m["ema"] is False and "fp32" in m["precisions"] for m in models.values())
    assert all(m["thumbnail"] == f"/api/models/{i}/sheet" for i, m in models.items())
    assert all((m["reads"], m["label_nc"], m["unavailable"]) == ("image", 0, None)
               for m in (models["pix2pix"], models["cyclegan"]))
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    assert "access-control-allow-origin" not in response.headers


def test_the_canvas_size_is_the_size_the_model_trained_at(tmp_path):
    train = tmp_path / "data" / "train"
    train.mkdir(parents=True)
    (train / "0.png").write_bytes(encode_image(".png", np.zeros((40, 80, 3), np.float32)))  # an A|B pair
    crop = {"preprocess": "resize_and_crop", "load_size": 286, "crop_size": 128, "data": str(tmp_path / "data")}
    assert training_size(crop) == 128
    assert training_size({**crop, "preprocess": "scale_width", "load_size": 300}) == 300
    assert training_size({**crop, "preprocess": "none"}) == 40  # the images as they are: one half's height
    assert training_size({**crop, "preprocess": "none", "data": str(tmp_path / "moved")}) is None


def test_a_sheet_is_the_runs_latest_training_sheet(client, runs):
    response = client.get("/api/models/cyclegan/sheet")
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert response.content == (runs / "cyclegan" / "samples" / "step_00000001.png").read_bytes()
    assert "unknown model" in error_of(client.get("/api/models/nothing/sheet"), 404)


def test_the_page_and_its_files_are_served_with_the_security_headers(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert client.get("/static/app.js").status_code == 200
    missing = client.get("/static/nothing.js")
    assert missing.status_code == 404 and missing.headers["x-content-type-options"] == "nosniff"


def test_openapi_describes_the_endpoints(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    assert {"/api/models", "/api/translate", "/api/sample", "/api/labels", "/api/models/{model_id}/sheet"} <= set(paths)
    names = {p["name"] for p in paths["/api/translate"]["post"]["parameters"]}
    assert {"model", "direction", "to", "test_mode", "tile"} <= names


# --- ids, never paths ----------------------------------------------------------------------------------------
def test_models_are_named_by_listed_ids_only_never_by_a_path(runs, tmp_path, photo):
    outside = tmp_path / "outside"
    shutil.copytree(runs / "pix2pix", outside / "secret")
    served = tmp_path / "served"
    shutil.copytree(runs / "cyclegan", served / "mine")
    (served / "linked_folder").symlink_to(outside / "secret", target_is_directory=True)  # not entered
    (served / "linked_file").mkdir()
    (served / "linked_file" / "latest.pt").symlink_to(outside / "secret" / "latest.pt")  # leads out: left out
    client = TestClient(create_app([served], device="cpu"))
    assert [m["id"] for m in client.get("/api/models").json()["models"]] == ["mine"]
    body = photo.read_bytes()
    for model_id in ("linked_file", "linked_folder", "../outside/secret", "mine/../../outside/secret",
                     str(outside / "secret"), str(outside / "secret" / "latest.pt"), "/etc/passwd",
                     "%2e%2e/outside/secret", "mine/", "MINE"):
        response = client.post("/api/translate", params={"model": model_id}, content=body)
        assert "unknown model" in error_of(response, 404), model_id
        assert client.get(f"/api/models/{model_id}/sheet").status_code == 404, model_id
    assert client.post("/api/translate", params={"model": "mine"}, content=body).status_code == 200


def test_files_named_by_themselves_and_runs_of_one_name_in_two_folders_each_get_an_id(runs, tmp_path, capsys):
    for folder in ("one", "two"):
        shutil.copytree(runs / "cyclegan", tmp_path / folder / "run")
    (tmp_path / "broken.pt").write_bytes(b"PK\x03\x04 cut short")
    app = create_app([tmp_path / "one", tmp_path / "two", runs / "cgan" / "latest.pt", tmp_path / "broken.pt"],
                     device="cpu")
    models = TestClient(app).get("/api/models").json()["models"]
    assert [(m["id"], m["file"]) for m in models] == [("run", "run/latest.pt"), ("run-2", "run/latest.pt"),
                                                      ("file:cgan-latest.pt", "latest.pt")]
    assert "skipped " + str(tmp_path / "broken.pt") + ": " in capsys.readouterr().err


def test_a_file_replaced_by_a_link_out_of_the_folder_after_listing_is_refused(runs, tmp_path, photo):
    served = tmp_path / "served"
    shutil.copytree(runs / "cyclegan", served / "run")
    client = TestClient(create_app([served], device="cpu"))
    (served / "run" / "latest.pt").unlink()
    (served / "run" / "latest.pt").symlink_to(runs / "pix2pix" / "latest.pt")
    response = client.post("/api/translate?model=run", content=photo.read_bytes())
    assert "no longer lies in the folder served" in error_of(response, 404)


# --- translating ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("model, params", [("pix2pix", {}), ("pix2pix", {"test_mode": "eval", "seed": "3"}),
                                           ("cyclegan", {"direction": "BtoA"})])
def test_a_png_comes_back_at_its_size_as_the_translator_gives_it(client, runs, photo, model, params):
    response = client.post("/api/translate", params={"model": model, **params}, content=photo.read_bytes(),
                           headers={"Content-Type": "image/png"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png" and response.headers["x-weights"] == "raw"
    assert float(response.headers["x-elapsed-ms"]) > 0
    translator = load_translator(runs / model, params.get("direction"), params.get("test_mode"))
    expected = translator.translate(read_channels(photo, 3), seed=int(params.get("seed", 0)))
    assert expected.shape[:2] == (HEIGHT, WIDTH)
    assert response.content == encode_image(".png", expected)


def test_a_jpeg_gray_or_transparent_upload_is_read_as_translate_reads_the_file(client, runs, tmp_path):
    rng = np.random.default_rng(3)
    translator = load_translator(runs / "cyclegan")
    for name, image in (("x.jpg", rng.random((HEIGHT, WIDTH, 3))), ("gray.png", rng.random((HEIGHT, WIDTH, 1))),
                        ("alpha.png", rng.random((HEIGHT, WIDTH, 4)))):
        path = tmp_path / name
        path.write_bytes(encode_image(path.suffix, image.astype(np.float32)))
        response = client.post("/api/translate?model=cyclegan", content=path.read_bytes())
        assert response.status_code == 200, response.text
        assert response.content == encode_image(".png", translator.translate(read_channels(path, 3))), name
        assert decode_image(response.content).shape == (HEIGHT, WIDTH, 3)


@pytest.mark.parametrize("suffix, channels, bits", [(".png", 3, 16), (".png", 2, 8), (".webp", 3, 8), (".bmp", 3, 8),
                                                    (".tif", 4, 16), (".tif", 5, 32)])
def test_uploads_decode_as_the_same_files_read_from_disk(tmp_path, suffix, channels, bits):
    from translation.data.io import read_image

    image = np.random.default_rng(channels).random((HEIGHT, WIDTH, channels)).astype(np.float32)
    path = tmp_path / f"image{suffix}"
    if bits == 32:  # a float multi-channel TIFF: only tifffile reads it, from the bytes' TIFF signature
        import tifffile

        tifffile.imwrite(path, image, photometric="minisblack", planarconfig="contig")
    else:
        path.write_bytes(encode_image(suffix, image, bit_depth=bits))
    for options in ({}, {"channels": 3} if channels < 5 else {"channels": 5}, {"alpha": "keep"}):
        assert np.array_equal(decode_image(path.read_bytes(), **options), read_image(path, **options)), options


def test_tiles_as_translate_tile_and_refused_where_batch_norm_would_see_each_tile(client, runs, photo):
    response = client.post("/api/translate?model=cyclegan&tile=32", content=photo.read_bytes())
    assert response.status_code == 200, response.text
    translator = load_translator(runs / "cyclegan")
    tiling = translator.tiling(32, 16)  # translate's 32 px overlap, at most half the tile
    assert tiling.needed(HEIGHT, WIDTH)
    expected = translator.translate_tiled(read_channels(photo, 3), tiling)
    assert decode_image(response.content).shape == (HEIGHT, WIDTH, 3)
    assert response.content == encode_image(".png", expected)
    assert response.content != encode_image(".png", translator.translate(read_channels(photo, 3)))
    refused = client.post("/api/translate?model=pix2pix&tile=64", content=photo.read_bytes())
    assert "batch norm" in error_of(refused, 400)
    assert "tile=8: must be between 32" in error_of(post(client, "/api/translate?model=cyclegan&tile=8", b"x"), 400)


def test_an_image_over_1024_px_a_side_goes_in_512_px_tiles_where_the_net_can_take_them(client, runs):
    image = np.random.default_rng(3).random((40, 1030, 3), dtype=np.float32)
    body = encode_image(".png", image)
    image = decode_image(body)  # as the server reads it: 8-bit
    response = client.post("/api/translate?model=cyclegan", content=body)
    assert response.status_code == 200, response.text
    assert response.headers["X-Tiles"] == "512"
    translator = load_translator(runs / "cyclegan")
    assert response.content == encode_image(".png", translator.translate_tiled(image, translator.tiling(512, 32)))
    small = client.post("/api/translate?model=cyclegan", content=encode_image(".png", image[:, :1000]))
    assert "X-Tiles" not in small.headers
    whole = client.post("/api/translate?model=pix2pix", content=body)  # batch norm in paper mode: no tiles
    assert whole.status_code == 200 and "X-Tiles" not in whole.headers
    assert decode_image(whole.content).shape == (40, 1030, 3)


def test_stargan_translates_to_the_named_domains_and_to_all_as_a_sheet(client, runs, photo):
    image = read_channels(photo, 3)
    for to in ("Blond_Hair", "Black_Hair,Young"):
        response = client.post("/api/translate", params={"model": "stargan", "to": to}, content=photo.read_bytes())
        assert response.status_code == 200, response.text
        expected = load_domain_translator(runs / "stargan", DomainRequest(to.split(","))).translate(image)
        assert response.content == encode_image(".png", expected), to
    given = client.post("/api/translate?model=stargan&to=Young&from=Blond_Hair", content=photo.read_bytes())
    translator = load_domain_translator(runs / "stargan", DomainRequest(["Young"], ["Blond_Hair"]))
    assert given.content == encode_image(".png", translator.translate(image))
    sheet = client.post("/api/translate?model=stargan&to=all", content=photo.read_bytes())
    expected = load_domain_translator(runs / "stargan", DomainRequest(["all"])).translate(image)
    assert expected.shape[1] > 4 * WIDTH  # the input and one column per domain
    assert sheet.content == encode_image(".png", expected)


def test_changing_direction_mode_or_target_never_reads_the_file_again(runs, photo, monkeypatch):
    reads = []
    real = loaded_module.load_file
    monkeypatch.setattr(loaded_module, "load_file", lambda path: (reads.append(Path(path).parent.name), real(path))[1])
    client = TestClient(create_app([runs], device="cpu", max_models=4))
    body = photo.read_bytes()
    for query in ("model=pix2pix", "model=pix2pix&test_mode=eval", "model=pix2pix&seed=2",
                  "model=cyclegan", "model=cyclegan&direction=BtoA", "model=cyclegan&test_mode=paper",
                  "model=stargan&to=Young", "model=stargan&to=all", "model=stargan&to=Black_Hair&from=Young",
                  "model=stargan&to=Young&test_mode=eval"):
        assert client.post(f"/api/translate?{query}", content=body).status_code == 200, query
    assert client.post("/api/sample?model=cgan&n=2").status_code == 200
    assert client.post("/api/sample?model=cgan&n=3&seed=4").status_code == 200
    assert sorted(reads) == ["cgan", "cyclegan", "pix2pix", "stargan"]


def test_the_least_recently_used_model_is_dropped_beyond_max_models(runs, photo):
    app = create_app([runs], device="cpu", max_models=2)
    client = TestClient(app)
    models = app.state.server.models
    for model_id, expected in (("pix2pix", ["pix2pix"]), ("cyclegan", ["pix2pix", "cyclegan"]),
                               ("pix2pix", ["cyclegan", "pix2pix"]), ("stargan", ["pix2pix", "stargan"]),
                               ("cyclegan", ["stargan", "cyclegan"])):
        query = f"model={model_id}" + ("&to=Young" if model_id == "stargan" else "")
        assert client.post(f"/api/translate?{query}", content=photo.read_bytes()).status_code == 200
        assert models.loaded_ids() == expected
    assert models.reads == 4  # pix2pix was still loaded its second time, cyclegan no longer


# --- sampling ------------------------------------------------------------------------------------------------
def test_a_sample_grid_is_what_translation_sample_draws(client, runs):
    response = client.post("/api/sample?model=cgan&n=5&seed=3")
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    sheet = decode_image(response.content)
    assert sheet.shape == (3 * 16 + 2 * 2, 2 * 16 + 2, 3)  # the classes in turn: a column each
    sampler = load_sampler(runs / "cgan")
    assert response.content == encode_image(".png", grid(*draw(sampler, 5, seed=3)))
    one_class = client.post("/api/sample?model=cgan&n=4&label=light&truncation=0.5")
    assert decode_image(one_class.content).shape == (2 * 16 + 2, 2 * 16 + 2, 3)
    assert one_class.content == encode_image(".png", grid(*draw(sampler, 4, 0, 0.5, "light")))


# --- errors --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("query, body, status, words", [
    ("model=pix2pix", b"not an image", 400, "the uploaded image: not an image file"),
    ("model=pix2pix", b"", 400, "no image"),
    ("model=pix2pix&colour=red", b"x", 400, "unknown parameter 'colour'"),
    ("model=pix2pix&seed=-1", b"x", 400, "seed=-1: must be between 0"),
    ("model=pix2pix&seed=one", b"x", 400, "seed=one: not a whole number"),
    ("model=pix2pix&direction=BtoA", b"x", 400, "direction=BtoA: this model translates AtoB"),
    ("model=pix2pix&to=Young", b"x", 400, "to: this model translates between two domains"),
    ("model=pix2pix&test_mode=fast", b"x", 400, "test_mode=fast: this model's test modes are paper, eval"),
    ("model=pix2pix&precision=fp16", b"x", 400, "precision=fp16: this model runs in fp32, bf16"),
    ("model=stargan", b"x", 400, "to: missing; name the domains"),
    ("model=stargan&to=Bald", b"x", 400, "to=Bald: not a domain of this model"),
    ("model=stargan&to=all,Young", b"x", 400, "to=all stands alone"),
    ("model=stargan&to=Young&direction=AtoB", b"x", 400, "direction: this model translates to named domains"),
    ("model=cgan", b"x", 400, "draws images from noise: POST /api/sample"),
    ("", b"x", 400, "model: missing"),
    ("model=nothing", b"x", 404, "unknown model 'nothing'"),
])
def test_bad_requests_are_named(client, query, body, status, words):
    assert words in error_of(post(client, f"/api/translate?{query}", body), status)


@pytest.mark.parametrize("query, status, words", [
    ("model=cgan&n=0", 400, "n=0: must be between 1 and 256"),
    ("model=cgan&label=blue", 400, "label=blue: this model's classes are dark, light"),
    ("model=cgan&truncation=0", 400, "truncation=0: must be above 0"),
    ("model=pix2pix", 400, "translates images: POST /api/translate"),
    ("model=../cgan", 404, "unknown model"),
])
def test_bad_sample_requests_are_named(client, query, status, words):
    assert words in error_of(post(client, f"/api/sample?{query}"), status)


def test_the_decompression_bomb_guard_applies_to_uploads(client, photo, monkeypatch):
    monkeypatch.setenv("TRANSLATION_MAX_PIXELS", "1000")
    assert "decompression bombs" in error_of(post(client, "/api/translate?model=cyclegan", photo.read_bytes()), 400)


def test_a_failure_inside_is_a_500_with_its_message(runs, photo, monkeypatch):
    app = create_app([runs], device="cpu")
    monkeypatch.setattr(app.state.server.models, "get", lambda model_id: 1 / 0)
    response = TestClient(app).post("/api/translate?model=cyclegan", content=photo.read_bytes())
    assert "ZeroDivisionError: division by zero" in error_of(response, 500)


# --- limits --------------------------------------------------------------------------------------------------
def test_a_body_over_the_limit_is_refused_from_its_content_length(runs, photo):
    client = TestClient(create_app([runs], device="cpu", max_upload_mb=0.001))  # 1,048 bytes
    assert len(photo.read_bytes()) > 1048
    response = post(client, "/api/translate?model=pix2pix", photo.read_bytes())
    assert "larger than the server's limit of 0.001 MB" in error_of(response, 413)
    assert post(client, "/api/translate?model=pix2pix", b"\x00" * 1048).status_code == 400  # within: read


def test_a_streamed_body_is_refused_before_it_is_read_whole(runs):
    """No Content-Length (chunked): the app stops reading at the limit; the client would send forever."""
    app = create_app([runs], device="cpu", max_upload_mb=0.01)  # 10,485 bytes: 11 chunks of 1 KB
    received, sent = [], []

    async def receive():
        received.append(1024)
        return {"type": "http.request", "body": b"\x00" * 1024, "more_body": True}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": "/api/translate", "raw_path": b"/api/translate", "root_path": "",
             "query_string": b"model=pix2pix", "headers": [(b"host", b"test")], "client": ("127.0.0.1", 1),
             "server": ("test", 80)}
    asyncio.run(app(scope, receive, send))
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 413
    assert sum(received) == 11 * 1024


def test_a_full_queue_answers_503_and_the_listing_answers_while_a_model_runs(runs, photo, monkeypatch):
    app = create_app([runs], device="cpu", workers=1, queue=0)
    server = app.state.server
    running, release = threading.Event(), threading.Event()
    real_get = server.models.get

    def blocked_get(model_id):
        running.set()
        assert release.wait(30)
        return real_get(model_id)

    monkeypatch.setattr(server.models, "get", blocked_get)
    results = {}
    with TestClient(app) as client:
        first = threading.Thread(target=lambda: results.update(
            first=client.post("/api/translate?model=cyclegan", content=photo.read_bytes())))
        first.start()
        assert running.wait(30)  # the worker holds the first request
        assert client.get("/api/models").status_code == 200  # the event loop is free
        busy = client.post("/api/translate?model=cyclegan", content=photo.read_bytes())
        assert "busy" in error_of(busy, 503) and busy.headers["retry-after"] == "1"
        assert "busy" in error_of(client.post("/api/sample?model=cgan"), 503)
        release.set()
        first.join(30)
        assert results["first"].status_code == 200
        assert server.pool.wait_for(0)
        assert client.post("/api/translate?model=cyclegan", content=photo.read_bytes()).status_code == 200


def test_a_queued_request_waits_for_the_worker(runs, photo, monkeypatch):
    app = create_app([runs], device="cpu", workers=1, queue=1)
    server = app.state.server
    release = threading.Event()
    real_get = server.models.get
    monkeypatch.setattr(server.models, "get", lambda model_id: (release.wait(30), real_get(model_id))[1])
    results = []
    with TestClient(app) as client:
        def send():
            results.append(client.post("/api/translate?model=cyclegan", content=photo.read_bytes()).status_code)

        threads = [threading.Thread(target=send) for _ in range(2)]
        for thread in threads:
            thread.start()
        assert server.pool.wait_for(2)  # one running, one waiting
        assert error_of(client.post("/api/translate?model=cyclegan", content=photo.read_bytes()), 503)
        release.set()
        for thread in threads:
            thread.join(30)
    assert results == [200, 200]


# --- token and CORS ------------------------------------------------------------------------------------------
def test_with_a_token_every_api_call_must_carry_it(runs, photo):
    client = TestClient(create_app([runs], device="cpu", token="s3cret"))
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret"},
                    {"Authorization": "Basic s3cret"}):
        for response in (client.get("/api/models", headers=headers),
                         client.get("/api/models/pix2pix/sheet", headers=headers),
                         client.post("/api/translate?model=pix2pix", content=photo.read_bytes(), headers=headers),
                         client.post("/api/sample?model=cgan", headers=headers)):
            assert "missing or wrong token" in error_of(response, 401), headers
            assert response.headers["www-authenticate"] == "Bearer"
    right = {"Authorization": "Bearer s3cret"}
    assert client.get("/api/models", headers=right).status_code == 200
    assert client.post("/api/translate?model=pix2pix", content=photo.read_bytes(), headers=right).status_code == 200
    assert client.get("/").status_code == 200  # the page itself: it reads the token from the URL's fragment


def test_cors_only_for_the_origin_asked_for(runs, client):
    preflight = {"Origin": "http://elsewhere.example", "Access-Control-Request-Method": "POST"}
    assert "access-control-allow-origin" not in client.options("/api/translate", headers=preflight).headers
    allowed = TestClient(create_app([runs], device="cpu", cors_origin="http://elsewhere.example"))
    answer = allowed.options("/api/translate", headers=preflight)
    assert answer.headers["access-control-allow-origin"] == "http://elsewhere.example"
    other = allowed.get("/api/models", headers={"Origin": "http://third.example"})
    assert "access-control-allow-origin" not in other.headers


# --- the command ---------------------------------------------------------------------------------------------
def test_the_command_binds_a_free_port_prints_the_url_and_warns_off_loopback(runs, monkeypatch, capsys):
    import uvicorn

    from translation.cli import main

    served = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets: served.extend(sockets))
    assert main(["serve", str(runs), "--port", "0", "--device", "cpu"]) == 0
    out, err = capsys.readouterr()
    port = served[0].getsockname()[1]
    assert port > 0 and out.strip() == f"serving 4 models at http://127.0.0.1:{port}/" and "warning" not in err
    assert main(["serve", str(runs), "--host", "0.0.0.0", "--port", "0", "--token", "t0k", "--device", "cpu"]) == 0
    out, err = capsys.readouterr()
    assert out.strip().endswith(f":{served[1].getsockname()[1]}/#token=t0k") and "warning" not in err
    assert main(["serve", str(runs), "--host", "0.0.0.0", "--port", "0", "--device", "cpu"]) == 0
    assert "warning: --host 0.0.0.0 can be reached from other machines and there is no --token" in \
        capsys.readouterr().err
    for sock in served:
        sock.close()


def test_without_the_serve_extra_the_command_says_how_to_install_it(runs, monkeypatch, capsys):
    from translation.cli import main

    monkeypatch.setitem(sys.modules, "starlette", None)  # import starlette raises ImportError
    assert main(["serve", str(runs)]) == 2
    assert capsys.readouterr().err.strip() == "translation serve needs the serve extra: pip install -e '.[serve]'"


def test_parsing_the_command_loads_neither_torch_nor_starlette():
    import subprocess

    code = ("import sys\nfrom translation.cli import build_parser\n"
            "build_parser().parse_args(['serve', 'runs', '--port', '0'])\n"
            "print(sorted(m for m in ('torch', 'starlette', 'uvicorn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])})
    assert out.stdout.strip() == "[]", out.stderr


def test_a_path_with_nothing_to_serve_is_an_error_and_an_empty_folder_says_so(tmp_path, monkeypatch, capsys):
    import uvicorn

    from translation.cli import main

    assert main(["serve", str(tmp_path / "missing"), "--device", "cpu"]) == 1
    assert "no such folder or checkpoint file" in capsys.readouterr().err
    served = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets: served.extend(sockets))
    assert main(["serve", str(tmp_path), "--port", "0", "--device", "cpu"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("serving 0 models at http://127.0.0.1:") and f"note: no models under {tmp_path}" in err
    served[0].close()


# --- label-map models (pix2pixHD --label-nc) -------------------------------------------------------------------
@pytest.fixture(scope="module")
def label_runs(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("serve_labels")
    label_map_run(root / "runs", root / "data")
    label_map_run(root / "runs", root / "data", name="instances", instance=True)
    return root / "runs"


@pytest.fixture(scope="module")
def labels_client(label_runs):
    with TestClient(create_app([label_runs], device="cpu")) as client:
        yield client


def id_png(ids, mode: str = "L", palette: bool = False) -> bytes:
    """A label map's PNG bytes: 8-bit gray, 16-bit gray (mode I;16), or a palette whose colours are not the ids."""
    from io import BytesIO

    from PIL import Image

    im = Image.fromarray(np.asarray(ids, np.uint16 if mode == "I;16" else np.uint8), mode=None if mode == "I;16"
                         else "P" if palette else mode)
    if palette:
        im.putpalette([250 - 30 * i for i in range(8) for _ in range(3)])
    out = BytesIO()
    im.save(out, format="PNG")
    return out.getvalue()


LABEL_IDS = np.random.default_rng(5).integers(0, LABEL_NC, (HEIGHT, WIDTH))


def test_a_label_map_model_is_listed_with_its_classes_and_colours(labels_client):
    models = {m["id"]: m for m in labels_client.get("/api/models").json()["models"]}
    labels = models["labels"]
    assert (labels["model"], labels["kind"], labels["reads"], labels["label_nc"]) == \
        ("pix2pixhd", "translate", "label_map", LABEL_NC)
    expected = ["#" + "".join(f"{round(float(v) * 255):02x}" for v in rgb) for rgb in label_colours(LABEL_NC)]
    assert labels["label_colours"] == expected and len(set(expected)) == LABEL_NC
    assert labels["unavailable"] is None and labels["instance"] is False
    instances = models["instances"]
    assert instances["instance"] is True and instances["unavailable"] is None and instances["reads"] == "label_map"
    assert instances["instance_default"] == "the label map's own class boundaries when no instance map is sent"
    assert "instance_default" not in labels


@pytest.mark.parametrize("mode, palette", [("L", False), ("I;16", False), ("L", True)])
def test_a_label_map_translates_as_translate_reads_the_file(labels_client, label_runs, tmp_path, mode, palette):
    body = id_png(LABEL_IDS, mode, palette)
    path = tmp_path / "map.png"
    path.write_bytes(body)
    assert np.array_equal(decode_id_map(body), read_id_map(path))  # one set of rules, bytes or file
    assert read_id_map(path)[..., 0].tolist() == LABEL_IDS.tolist()
    response = labels_client.post("/api/translate?model=labels", content=body)
    assert response.status_code == 200, response.text
    expected = load_translator(label_runs / "labels").translate(read_id_map(path))
    assert expected.shape == (HEIGHT, WIDTH, 3)
    assert response.content == encode_image(".png", expected)


def test_a_label_map_translates_in_tiles(labels_client, label_runs):
    response = labels_client.post("/api/translate?model=labels&tile=32", content=id_png(LABEL_IDS))
    assert response.status_code == 200, response.text
    translator = load_translator(label_runs / "labels")
    tiling = translator.tiling(32, 16)
    assert tiling.needed(HEIGHT, WIDTH) and response.headers["X-Tiles"] == "32"
    ids = LABEL_IDS[..., None].astype(np.int32)
    assert response.content == encode_image(".png", translator.translate_tiled(ids, tiling))


@pytest.mark.parametrize("query, body, words", [
    ("model=labels", id_png(np.full((8, 8), LABEL_NC)),
     f"the uploaded label map: label value {LABEL_NC} is outside 0..{LABEL_NC - 1} (--label-nc {LABEL_NC})"),
    ("model=labels", id_png(np.full((8, 8), 300), "I;16"), "label value 300 is outside 0..4"),
    ("model=labels", encode_image(".png", np.random.default_rng(0).random((8, 8, 3)).astype(np.float32)),
     ("a colour image (mode RGB), not a map of integer ids in one channel; this model reads label maps: send a "
      "1-channel map of class ids 0..4")),
    ("model=labels", b"not an image", "the uploaded label map: not a readable image"),
    ("model=labels", b"", "no image"),
])
def test_bad_label_maps_are_named(labels_client, query, body, words):
    assert words in error_of(post(labels_client, f"/api/translate?{query}", body), 400)


def test_a_form_for_a_label_map_model_without_instance_maps_is_refused_in_its_words(labels_client):
    response = labels_client.post("/api/translate?model=labels", files={"label": ("l.png", id_png(LABEL_IDS)),
                                                                         "instance": ("i.png", id_png(LABEL_IDS))})
    assert "reads a label map alone (it was trained without --instance): send the map's bytes" in error_of(
        response, 400)


# blocks of one class (8 x 9 px), and their instance map: objects of one class touching along row 20 and column 26
# inside blocks, edges the label map has not
BLOCK_IDS = np.kron(np.random.default_rng(6).integers(0, LABEL_NC, (5, 6)), np.ones((8, 9), int))[:HEIGHT, :WIDTH]
INSTANCE_IDS = BLOCK_IDS * 1000 + (np.arange(WIDTH) >= 26) + 2 * (np.arange(HEIGHT)[:, None] >= 20)


def test_a_model_reading_an_image_and_an_instance_map_is_listed_with_the_reason_it_cannot_be_served():
    from translation.serve.labels import describe_inputs

    entry = describe_inputs(0, True)  # pix2pixHD --label-nc 0 --instance: no label map to stand in
    assert entry["reads"] == "image" and "instance_default" not in entry
    assert "reads an image and an instance map (trained with --label-nc 0 --instance)" in entry["unavailable"]
    assert describe_inputs(3, True)["unavailable"] is None and describe_inputs(0, False)["unavailable"] is None


def translate_command(run: Path, label: Path, instance: Path, out: Path) -> np.ndarray:
    """What `translation translate RUN LABEL OUT --instance INSTANCE` writes into the folder OUT, read back."""
    from translation.cli import main
    from translation.data.io import read_image

    assert main(["translate", str(run), str(label), str(out), "--instance", str(instance), "--no-progress",
                 "--num-workers", "0"]) == 0
    return read_image(out / label.name)


def test_an_instance_model_takes_a_form_of_label_and_instance_maps_as_translate_instance_does(
        labels_client, label_runs, tmp_path):
    (tmp_path / "in").mkdir()
    label, instance = tmp_path / "in" / "x_labelIds.png", tmp_path / "in" / "x_instanceIds.png"
    label.write_bytes(id_png(BLOCK_IDS))
    instance.write_bytes(id_png(INSTANCE_IDS, "I;16"))
    response = labels_client.post("/api/translate?model=instances", files={
        "label": (label.name, label.read_bytes(), "image/png"), "instance": (instance.name, instance.read_bytes())})
    assert response.status_code == 200, response.text
    assert response.headers["X-Instance"] == "uploaded"
    expected = translate_command(label_runs / "instances", label, instance, tmp_path / "out")
    assert np.array_equal(decode_image(response.content), expected)
    # the label map alone: its own ids stand for the instance map, as translate --instance pointed at itself
    alone = labels_client.post("/api/translate?model=instances", content=label.read_bytes())
    assert alone.status_code == 200, alone.text
    assert alone.headers["X-Instance"] == "from-labels"
    from_labels = translate_command(label_runs / "instances", label, label, tmp_path / "self")
    assert np.array_equal(decode_image(alone.content), from_labels)
    assert not np.array_equal(from_labels, expected)  # the edges inside classes reached the net
    assert "X-Instance" not in labels_client.post("/api/translate?model=labels", content=label.read_bytes()).headers


def test_an_instance_model_translates_in_tiles_with_the_boundaries_of_the_whole_map(labels_client, label_runs):
    response = labels_client.post("/api/translate?model=instances&tile=32", files={
        "label": ("l.png", id_png(BLOCK_IDS)), "instance": ("i.png", id_png(INSTANCE_IDS, "I;16"))})
    assert response.status_code == 200, response.text
    assert response.headers["X-Tiles"] == "32"
    translator = load_translator(label_runs / "instances")
    prepared = translator.prepare(BLOCK_IDS[..., None].astype(np.int32),
                                  INSTANCE_IDS[..., None].astype(np.int32))
    assert response.content == encode_image(".png", translator.translate_tiled(prepared, translator.tiling(32, 16)))


@pytest.mark.parametrize("parts, words", [
    ({"label": "labels"}, ("the form has no instance file: send multipart/form-data with the files label and "
                          "instance")),
    ({"instance": "instances"}, "the form has no label file"),
    ({"label": "labels", "instance": "small"}, ("the uploaded label map: its instance map is 8x8 but the label map is "
                                               "53x37; they must have the same size")),
    ({"label": "labels", "instance": "colour"}, ("the uploaded instance map: a colour image (mode RGB), not a map of "
                                                "integer ids in one channel; an instance map is a 1-channel map")),
    ({"label": "labels", "instance": "empty"}, "the form's instance is empty"),
    ({"label": "labels", "instance": "instances", "mask": "small"}, "unknown field 'mask'"),
    ({"label": "colour", "instance": "instances"}, "the uploaded label map: a colour image (mode RGB)"),
    ({"label": "out_of_range", "instance": "instances"}, "label value 5 is outside 0..4"),
])
def test_bad_instance_forms_are_named(labels_client, parts, words):
    files = {"labels": id_png(BLOCK_IDS), "instances": id_png(INSTANCE_IDS, "I;16"), "small": id_png(np.ones((8, 8))),
             "colour": encode_image(".png", np.random.default_rng(1).random((HEIGHT, WIDTH, 3)).astype(np.float32)),
             "empty": b"", "out_of_range": id_png(np.full((HEIGHT, WIDTH), LABEL_NC))}
    response = labels_client.post("/api/translate?model=instances",
                                  files={name: (f"{name}.png", files[what]) for name, what in parts.items()})
    assert words in error_of(response, 400)


def test_a_label_map_comes_back_in_its_class_colours(labels_client, client, photo):
    response = labels_client.post("/api/labels?model=labels", content=id_png(LABEL_IDS, palette=True))
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    colours = (label_colours(LABEL_NC) * 255).round().numpy().astype(np.uint8)
    assert np.array_equal(decode_image(response.content, channels=3), colours[LABEL_IDS] / np.float32(255))
    refused = labels_client.post("/api/labels?model=labels", content=id_png(np.full((4, 4), 9)))
    assert "label value 9 is outside 0..4" in error_of(refused, 400)
    image_model = post(client, "/api/labels?model=pix2pix", photo.read_bytes())
    assert "reads images, not label maps" in error_of(image_model, 400)
    assert "draws images from noise" in error_of(post(client, "/api/labels?model=cgan", b"x"), 400)


# --- inpainting models (glcic, deepfill): a form of image and mask ----------------------------------------------
def hole_mask(height: int = HEIGHT, width: int = WIDTH) -> np.ndarray:
    mask = np.zeros((height, width, 1), np.float32)
    mask[6:21, 30:53] = 1.0  # reaches the right edge: into the padding to glcic's multiple of 4
    return mask


@pytest.fixture(scope="module")
def inpaint_client(tmp_path_factory):
    root = tmp_path_factory.mktemp("inpaint_serve")
    inpaint_run(root / "runs", root / "data")
    runs = root / "runs"
    with TestClient(create_app([runs], device="cpu")) as client:
        yield client, runs / "glcic"


def fill(client, image: bytes, mask: bytes, query: str = "model=glcic"):
    return client.post(f"/api/translate?{query}", files={"image": ("photo.png", image, "image/png"),
                                                          "mask": ("mask.png", mask, "image/png")})


def test_an_inpainting_model_is_listed_as_one_reading_its_images_channels(inpaint_client, client):
    entry = inpaint_client[0].get("/api/models").json()["models"][0]
    assert entry["inpaints"] is True and entry["input_nc"] == entry["output_nc"] == 3  # the mask not counted
    assert not any(m.get("inpaints") for m in client.get("/api/models").json()["models"])


@pytest.mark.parametrize("tile", [None, 32])
def test_the_holes_are_filled_and_every_other_pixel_is_the_inputs(inpaint_client, photo, tile):
    client, run = inpaint_client
    mask = hole_mask()
    response = fill(client, photo.read_bytes(), encode_image(".png", mask), "model=glcic" + (f"&tile={tile}" if tile
                                                                                           else ""))
    assert response.status_code == 200, response.text
    out, source = decode_image(response.content), read_channels(photo, 3)
    known = mask[..., 0] == 0
    assert out.shape == source.shape and np.array_equal(out[known], source[known])  # every 8-bit sample
    assert not np.array_equal(out[~known], source[~known])
    if tile is None:  # what translate --mask computes
        expected = load_translator(run).translate(source, mask=mask)
        assert response.content == encode_image(".png", expected)


@pytest.mark.parametrize("parts, words", [
    ({"image": "photo"}, "the form has no mask file"),
    ({"image": "photo", "mask": "small"}, "its mask is 8x8 but the image is 53x37; a mask must have its image's size"),
    ({"image": "photo", "mask": "colour"}, "the uploaded mask has 3 channels (RGB); a mask is a 1-channel"),
    ({"image": "photo", "mask": "photo", "extra": "photo"}, "unknown field 'extra'"),
    ({"image": "photo", "mask": "empty"}, "the form's mask is empty"),
])
def test_bad_forms_and_masks_are_named(inpaint_client, photo, parts, words):
    files = {"photo": photo.read_bytes(), "small": encode_image(".png", np.ones((8, 8, 1), np.float32)),
             "colour": encode_image(".png", np.ones((HEIGHT, WIDTH, 3), np.float32)), "empty": b""}
    response = inpaint_client[0].post("/api/translate?model=glcic",
                                      files={name: (f"{name}.png", files[what]) for name, what in parts.items()})
    assert words in error_of(response, 400)


def test_an_image_alone_for_an_inpainting_model_or_a_form_for_another_is_refused(inpaint_client, client, photo):
    alone = post(inpaint_client[0], "/api/translate?model=glcic", photo.read_bytes())
    assert "fills holes and reads a mask with each image: send multipart/form-data" in error_of(alone, 400)
    form = fill(client, photo.read_bytes(), encode_image(".png", hole_mask()), "model=pix2pix")
    assert "this model does not inpaint and reads no mask" in error_of(form, 400)
