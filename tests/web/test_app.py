"""The studio app through FastAPI's TestClient: every route, the limits (413, 415, ``../``), the job queue
with cancellation and SSE progress. Tiny seeded models and small real inputs (see ``_studio.py``)."""

import importlib.util
import io
import json
import os
import re
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from latentstudio.web.app import PAGES, STATIC, TITLES, create_app  # noqa: E402

_spec = importlib.util.spec_from_file_location("_studio", Path(__file__).with_name("_studio.py"))
S = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(S)

LIMIT = 300_000
LOCAL = "http://127.0.0.1"          # the studio answers requests addressed to its loopback names only
TINY_BUDGET = {"small": dict(candidates=4, es_iters=3, grad_steps=8, views=1, population=6, restarts=1,
                             scout_steps=0)}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("studio")
    app = create_app(tmp / "data", max_upload_bytes=LIMIT, perceive_budgets=TINY_BUDGET, **S.settings(tmp))
    with TestClient(app, base_url=LOCAL) as c:
        c.root = tmp / "data"
        yield c


def queued(resp) -> str:
    assert resp.status_code == 202, resp.text
    return resp.json()["job"]["id"]


def done(client, resp) -> dict:
    job = S.wait(client, queued(resp))
    assert job["status"] == "done", job
    return job["result"]


def sidecar(client, rel: str) -> dict:
    r = client.get(f"/files/{rel}")
    assert r.status_code == 200
    return r.json()


# ------------------------------------------------------------------------------------------ pages
def test_every_page_is_served_and_fetches_nothing_from_the_internet(client):
    for path in ["/"] + [f"/{p}" for p in PAGES]:
        r = client.get(path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), path
        assert "/static/studio.js" in r.text and r.text.count("<nav>") == 1
        links = re.findall(r'<a href="(/[a-z]*)"( class="here")?>', r.text.split("<nav>")[1].split("</nav>")[0])
        assert [h for h, _ in links] == ["/"] + [f"/{p}" for p in PAGES], path
        assert [h for h, here in links if here] == [path], path
        # one head, with the page's own title, and one body around the page's file
        assert r.text.count("<head>") == 1 and r.text.count("<body>") == 1 and r.text.count("</html>") == 1, path
        title = re.search(r"<title>(.*?) — latentstudio studio</title>", r.text)
        assert title and title.group(1) == TITLES["index" if path == "/" else path[1:]], path
    for f in STATIC.glob("*.html"):                  # the pages' files hold their bodies only
        assert not re.search(r"<(!doctype|html|head|body|nav)\b", f.read_text(encoding="utf-8"), re.I), f.name
    for name in ("studio.js", "studio.css"):
        assert client.get(f"/static/{name}").status_code == 200
    for f in STATIC.iterdir():
        text = f.read_text(encoding="utf-8")
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text), f.name      # no CDN
        assert "import(" not in text and "@import" not in text, f.name


def test_health_samples_and_a_sample_picture(client):
    h = client.get("/api/health").json()
    assert h["ok"] and h["max_upload_bytes"] == LIMIT
    names = client.get("/api/samples").json()["samples"]
    assert "chelsea" in names
    r = client.get("/api/samples/chelsea")
    assert r.status_code == 200 and r.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert client.get("/api/samples/nope").status_code == 404
    assert client.get("/api/samples/..%2F..%2Fetc%2Fpasswd").status_code == 404


# ------------------------------------------------------------------------------------- soundscape
def test_soundscape_of_a_sample_picture(client):
    r = done(client, client.post("/api/soundscape", data={"sample": "chelsea", "top": "2", "seconds": "3"}))
    assert "cat" in " ".join(lab for lab, _ in r["teacher_labels"][:3])     # the real teacher sees the cat
    assert len(r["matches"]) == 2 and {m["name"] for m in r["matches"]} <= {"low", "mid", "high"}
    audio = client.get(f"/files/{r['audio']}")
    assert audio.status_code == 200 and audio.content[:4] == b"OggS"
    side = sidecar(client, r["sidecar"])
    assert side["command"] == "latentstudio studio soundscape" and side["params"]["top"] == 2
    assert side["result"]["matches"][0]["score"] == pytest.approx(r["matches"][0]["score"], abs=1e-3)


def test_soundscape_by_heading(client):
    r = done(client, client.post("/api/soundscape", data={"sample": "chelsea", "top": "3", "seconds": "2",
                                                          "headings": "3"}))
    assert [h["pan"] for h in r["headings"]] == [-1.0, 0.0, 1.0]
    assert all(h["teacher_labels"] and h["matches"] for h in r["headings"])
    assert sidecar(client, r["sidecar"])["params"]["headings"] == 3
    r = client.post("/api/soundscape", data={"sample": "chelsea", "headings": "9"})
    assert r.status_code == 400 and "headings=9" in r.json()["error"]


def test_soundscape_of_an_upload_and_of_a_file_of_the_data_folder(client):
    r = done(client, client.post("/api/soundscape", files={"file": ("mine.png", S.png_bytes(), "image/png")},
                                 data={"top": "1", "seconds": "2"}))
    assert r["image"].startswith("soundscape/mine_") and len(r["matches"]) == 1
    again = done(client, client.post("/api/soundscape", data={"source": r["image"], "top": "1", "seconds": "2"}))
    assert again["matches"][0]["name"] == r["matches"][0]["name"]


@pytest.mark.parametrize("source", ["../../etc/passwd", "/etc/passwd", "soundscape/../../x.png", "..\\x.png",
                                    ".cache/soundscape/catalog.sqlite", "C:/x.png"])
def test_paths_outside_the_data_folder_are_refused(client, source):
    r = client.post("/api/soundscape", data={"source": source})
    assert r.status_code == 400 and ("outside" in r.json()["error"] or "hidden" in r.json()["error"])


def test_files_route_stays_inside_the_data_folder(client, tmp_path):
    for url in ["/files/..%2F..%2F..%2Fetc%2Fpasswd", "/files/%2Fetc%2Fpasswd", "/files/soundscape%2F..%2F..%2Fx",
                "/files/.cache/x"]:
        r = client.get(url)
        assert r.status_code == 400 and "error" in r.json(), url
    assert client.get("/files/no/such.png").status_code == 404
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    link = client.root / "link.txt"
    link.symlink_to(outside)
    try:
        r = client.get("/files/link.txt")
        assert r.status_code == 400 and "secret" not in r.text
    finally:
        link.unlink()


def test_uploads_over_the_limit_get_413(client):
    big = b"\x89PNG\r\n\x1a\n" + os.urandom(LIMIT + 100_000)
    r = client.post("/api/soundscape", files={"file": ("big.png", big, "image/png")})
    assert r.status_code == 413 and "limit" in r.json()["error"]
    # no Content-Length (chunked): counted as it streams in
    body = b"x" * (LIMIT + 200_000)
    r = client.post("/api/beatbox/turn", content=(body[i:i + 65536] for i in range(0, len(body), 65536)),
                    headers={"content-type": "multipart/form-data; boundary=x"})
    assert r.status_code == 413
    # a file just over the limit inside an envelope that is not
    r = client.post("/api/beatbox/turn", files={"file": ("v.wav", b"RIFF\0\0\0\0WAVE" + b"\0" * LIMIT, "audio/wav")})
    assert r.status_code == 413 and "v.wav" in r.json()["error"]


def test_wrong_types_get_415_and_broken_files_400(client):
    r = client.post("/api/soundscape", files={"file": ("notes.png", b"just some text, not a picture", "image/png")})
    assert r.status_code == 415 and "not an image" in r.json()["error"]
    r = client.post("/api/beatbox/turn", files={"file": ("pic.wav", S.png_bytes(), "audio/wav")})
    assert r.status_code == 415 and "not audio" in r.json()["error"]
    r = client.post("/api/dream", json={"sample": "chelsea"})
    assert r.status_code == 415 and "form" in r.json()["error"]
    r = client.post("/api/soundscape", files={"file": ("half.png", S.png_bytes()[:60], "image/png")})
    assert r.status_code == 400 and "half.png" in r.json()["error"]
    before = _files(client.root, "uploads")
    r = client.post("/api/beatbox/turn", files={"file": ("bad.wav", b"RIFF\0\0\0\0WAVEfmt garbage", "audio/wav")})
    assert r.status_code == 400 and "bad.wav" in r.json()["error"]
    assert _files(client.root, "uploads") == before              # a file that does not decode is not kept
    r = client.post("/api/soundscape", files={"file": ("empty.png", b"", "image/png")})
    assert r.status_code == 400


def test_a_picture_that_decodes_to_too_many_pixels_gets_413_before_decoding(client):
    from PIL import Image

    from latentstudio.web.app import MAX_PIXELS

    side = int(MAX_PIXELS ** 0.5) + 100
    buf = io.BytesIO()
    Image.new("1", (side, side)).save(buf, format="PNG")      # a few kB that would decode to gigabytes
    assert len(buf.getvalue()) < LIMIT
    before = _files(client.root, "uploads")
    r = client.post("/api/dream", files={"file": ("bomb.png", buf.getvalue(), "image/png")})
    assert r.status_code == 413 and "bomb.png" in r.json()["error"] and f"{side}x{side}" in r.json()["error"]
    assert _files(client.root, "uploads") == before
    # past PIL's own bomb limit (its header alone says 20000 x 20000): the same 413, not a decoding error
    head = buf.getvalue()
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 1, 0, 0, 0, 0)
    big = head[:8] + struct.pack(">I", 13) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    r = client.post("/api/dream", files={"file": ("huge.png", big + head[33:], "image/png")})
    assert r.status_code == 413 and "huge.png" in r.json()["error"]


def test_other_sites_cannot_drive_the_studio(client, tmp_path):
    evil = {"origin": "http://evil.example"}
    for headers in (evil, {"origin": "null"}, {"sec-fetch-site": "cross-site"},
                    {"origin": "http://127.0.0.1:9999"}):
        r = client.post("/api/beatbox/reset", headers=headers)
        assert r.status_code == 403 and "another site" in r.json()["error"], headers
        r = client.post("/api/jobs/1/cancel", headers=headers)
        assert r.status_code == 403, headers
    assert client.post("/api/beatbox/reset", headers={"origin": LOCAL}).status_code == 200   # its own page
    assert client.post("/api/beatbox/reset", headers={"sec-fetch-site": "same-origin"}).status_code == 200
    assert client.get("/api/health", headers=evil).status_code == 200          # reading is not changing
    # a page that rebinds its own DNS name to 127.0.0.1 still names itself in Host
    r = client.get("/api/gallery", headers={"host": "evil.example"})
    assert r.status_code == 421 and "evil.example" in r.json()["error"]
    for local in ("localhost:8765", "[::1]:8765", "127.0.0.1"):
        assert client.get("/api/health", headers={"host": local}).status_code == 200, local
    # listening on a network address, the studio answers any name the machine has
    with TestClient(create_app(tmp_path / "data", hosts=("*",)), base_url="http://studio.lan:8765") as c:
        assert c.get("/api/health").status_code == 200
        assert c.post("/api/beatbox/reset", headers={"origin": "http://studio.lan:8765"}).status_code == 200
        assert c.post("/api/beatbox/reset", headers=evil).status_code == 403


def test_more_jobs_than_the_queue_holds_get_429(tmp_path, monkeypatch):
    import latentstudio.web.app as web_app

    nets = S._load(S.TESTS / "optvis" / "_nets.py", "_nets")
    monkeypatch.setattr(web_app, "MAX_PENDING", 2)
    app = create_app(tmp_path / "data", dream_model=nets.tiny_net(0), dream_layer="6", dream_max_side=64)
    S.slow_steps(app.state.studio, 0.05)
    with TestClient(app, base_url=LOCAL) as c:
        ids = [queued(c.post("/api/dream", data={"sample": "coffee", "octaves": "8", "steps": "50"}))
               for _ in range(2)]
        r = c.post("/api/dream", data={"sample": "coffee"})
        assert r.status_code == 429 and "2 jobs" in r.json()["error"]
        for i in ids:
            c.post(f"/api/jobs/{i}/cancel")
        for i in ids:
            assert S.wait(c, i)["status"] == "cancelled"
        assert c.post("/api/dream", data={"sample": "coffee", "octaves": "1", "steps": "1"}).status_code == 202


def test_bad_form_values_get_a_clear_400(client):
    cases = [("/api/soundscape", {"sample": "chelsea", "top": "abc"}, "top='abc' must be a number"),
             ("/api/soundscape", {"sample": "chelsea", "top": "99"}, "top=99 must be between"),
             ("/api/soundscape", {"sample": "no-such-sample"}, "not an offline sample"),
             ("/api/soundscape", {"top": "3"}, "send a picture"),
             ("/api/dream", {"sample": "coffee", "octaves": "0"}, "octaves=0"),
             ("/api/perceive", {"target": "no such class xyz"}, "no such class xyz"),
             ("/api/perceive", {"target": "goldfish", "budget": "huge"}, "budget='huge'"),
             ("/api/perceive", {"strokes": "3"}, "target"),
             ("/api/beatbox/turn", {}, "send a recording")]
    for url, data, message in cases:
        r = client.post(url, data=data)
        assert r.status_code == 400, (url, data, r.text)
        assert message in r.json()["error"], (url, data, r.json())


# ------------------------------------------------------------------------------------------ beatbox
def test_beatbox_turns_grow_one_piece_and_reset(client):
    client.post("/api/beatbox/reset")
    first = done(client, client.post("/api/beatbox/turn", files={"file": ("v1.wav", S.voice_wav(0), "audio/wav")}))
    assert first["turn"] == 1 and len(first["hits"]) >= 3
    assert {h["label"] for h in first["hits"]} and all(0 <= h["confidence"] <= 1 for h in first["hits"])
    assert client.get(f"/files/{first['audio']}").content[:4] == b"RIFF"
    assert client.get(f"/files/{first['midi']}").content[:4] == b"MThd"
    second = done(client, client.post("/api/beatbox/turn", files={"file": ("v2.wav", S.voice_wav(1), "audio/wav")}))
    assert second["turn"] == 2 and second["kit_sounds"] >= first["kit_sounds"]
    session = client.get("/api/beatbox/session").json()
    assert session["turns"] == 2 and len(session["beats"]) == 2 and session["kit"]
    assert sidecar(client, second["sidecar"])["command"] == "beatbox session"
    assert sidecar(client, second["sidecar"])["hits"]                     # the audio's own record, not the MIDI's
    assert sidecar(client, second["midi"] + ".json")["models"] == ["beatbox_rhythm"]
    fresh = client.post("/api/beatbox/reset").json()
    assert fresh["turns"] == 0 and fresh["session"] != session["session"]


# ----------------------------------------------------------------------------------------------- dj
def test_dj_back_to_back(client):
    app_studio = client.app.state.studio
    if app_studio.dj_state()["ready"] is False:
        r = client.post("/api/dj/pick", data={"track": "01-house-120bpm-Am.wav"})
        assert r.status_code == 409 and "record box" in r.json()["error"]
    first, again = client.post("/api/dj/library"), client.post("/api/dj/library")
    assert queued(again) == queued(first)                       # one analysis at a time, not a second
    lib = done(client, first)
    assert lib["ready"] and len(lib["tracks"]) == 3
    assert abs(next(t for t in lib["tracks"] if t["name"].startswith("01"))["bpm"] - 120) < 1
    assert client.post("/api/dj/pick", data={"track": "nope.wav"}).status_code == 400
    res = done(client, client.post("/api/dj/pick", data={"track": "01-house-120bpm-Am.wav"}))
    assert [t["by"] for t in res["turns"]] == ["human", "ai"]
    assert res["ai_reasons"]["picked_by"] == "ai" and "tempo" in res["ai_reasons"] and res["ai"] != res["human"]
    assert client.get(f"/files/{res['mix']}").content[:4] == b"fLaC" and res["duration"] > 5
    plan = sidecar(client, res["sidecar"])["plan"]
    assert [Path(t["path"]).name for t in plan["tracks"]] == [t["name"] for t in res["turns"]]
    r = client.post("/api/dj/pick", data={"track": "01-house-120bpm-Am.wav"})
    assert r.status_code == 400 and "already been played" in r.json()["error"]
    state = client.get("/api/dj/state").json()
    assert state["next"] == "human" and len(state["left"]) == 1
    assert client.post("/api/dj/reset").json()["turns"] == []


# -------------------------------------------------------------------------------------- dream, perceive
def test_dream_with_progress_and_a_bad_layer(client):
    job = S.wait(client, queued(client.post("/api/dream", data={"sample": "coffee", "octaves": "2", "steps": "3"})))
    assert job["status"] == "done" and (job["done"], job["total"]) == (6, 6)
    r = job["result"]
    assert r["objective"] == "deepdream(6)" and max(r["width"], r["height"]) == 64 and r["gain"] > 1
    assert client.get(f"/files/{r['image']}").content[:4] == b"\x89PNG"
    side = sidecar(client, r["sidecar"])
    assert side["command"] == "latentstudio studio dream" and side["params"]["steps"] == 3
    bad = S.wait(client, queued(client.post("/api/dream", data={"sample": "coffee", "layer": "no.such.layer"})))
    assert bad["status"] == "failed" and "no.such.layer" in bad["error"] and "Traceback" not in bad["error"]


def test_perceive(client):
    r = done(client, client.post("/api/perceive", data={"target": "goldfish", "strokes": "3", "budget": "small"}))
    assert r["target_index"] == 1 and [m["role"] for m in r["models"]] == ["ensemble", "ensemble", "holdout"]
    assert client.get(f"/files/{r['svg']}").text.lstrip().startswith("<")
    side = sidecar(client, r["sidecar"])
    assert side["command"] == "latentstudio studio perceive" and side["params"]["budget_settings"]["grad_steps"] == 8


# ------------------------------------------------------------------------------------------- seeing
def _files(root: Path, *folders: str) -> set:
    return {p for f in folders for p in (root / f).rglob("*") if p.is_file()}


def test_seeing_lists_the_shipped_models(client):
    from latentstudio.seeing.training import shipped_models

    info = client.get("/api/seeing/models").json()
    assert info["models"] == list(shipped_models()) and {"flowers", "water"} <= set(info["models"])
    assert info["filters"] == ["none", "blur", "canny", "threshold"]


def test_seeing_a_sample_as_two_worlds_side_by_side(client):
    from PIL import Image

    from latentstudio import assets

    job = S.wait(client, queued(client.post("/api/seeing", data={"sample": "chelsea", "models": ["flowers", "water"],
                                                                 "pre": "canny", "size": "64",
                                                                 "side_by_side": "true"})))
    assert job["status"] == "done" and (job["done"], job["total"]) == (2, 2), job
    r = job["result"]
    assert [i["model"] for i in r["images"]] == ["flowers", "water"] and r["image"] == r["images"][0]["image"]
    w, h = Image.open(assets.sample_image("chelsea")).size
    for item in r["images"]:
        assert item["image"].startswith(f"seeing/chelsea-{item['model']}_")
        got = client.get(f"/files/{item['image']}")
        assert got.content[:8] == b"\x89PNG\r\n\x1a\n"
        assert Image.open(io.BytesIO(got.content)).size == (2 * w, h)            # the input beside the output
        side = sidecar(client, item["sidecar"])
        assert side["command"] == "latentstudio studio seeing" and side["params"]["model"] == item["model"]
        assert side["params"]["pre"] == "canny" and side["params"]["size"] == 64 and side["params"]["side_by_side"]
        assert side["models"][0].endswith(f"seeing_{item['model']}") and side["summary"]["kind"] == "picture"
    listed = {i["path"] for i in client.get("/api/gallery").json()["items"]}
    assert {i["image"] for i in r["images"]} <= listed


def test_seeing_an_upload_with_comma_separated_models(client):
    from PIL import Image

    r = done(client, client.post("/api/seeing", files={"file": ("mine.png", S.png_bytes(48, seed=3), "image/png")},
                                 data={"models": "water,water", "size": "32"}))
    assert [i["model"] for i in r["images"]] == ["water"] and r["image"].startswith("seeing/mine-water_")
    assert Image.open(io.BytesIO(client.get(f"/files/{r['image']}").content)).size == (48, 48)
    assert r["pre"] == "none" and r["side_by_side"] is False


def test_seeing_refuses_bad_input_and_writes_nothing(client):
    before = _files(client.root, "seeing", "uploads")
    cases = [({"sample": "chelsea", "models": "roses"}, 400, "models: 'roses' is not a model"),
             ({"sample": "chelsea"}, 400, "models: choose at least one"),
             ({"sample": "chelsea", "models": "flowers", "pre": "sharpen"}, 400, "pre: "),
             ({"sample": "chelsea", "models": "flowers", "pre": "blur:-1"}, 400, "pre: "),
             ({"sample": "chelsea", "models": "flowers", "size": "9999"}, 400, "size=9999 must be between 32"),
             ({"sample": "chelsea", "models": "flowers", "size": "big"}, 400, "size='big' must be a number"),
             ({"sample": "chelsea", "models": "flowers", "side_by_side": "maybe"}, 400, "side_by_side='maybe'"),
             ({"sample": "nope", "models": "flowers"}, 400, "not an offline sample"),
             ({"source": "../../etc/passwd", "models": "flowers"}, 400, "outside"),
             ({"models": "flowers"}, 400, "send a picture")]
    for data, status, message in cases:
        r = client.post("/api/seeing", data=data)
        assert r.status_code == status and message in r.json()["error"], (data, r.text)
    r = client.post("/api/seeing", data={"models": "flowers"},
                    files={"file": ("notes.png", b"just some text, not a picture", "image/png")})
    assert r.status_code == 415 and "notes.png" in r.json()["error"]
    big = b"\x89PNG\r\n\x1a\n" + os.urandom(LIMIT + 1000)
    r = client.post("/api/seeing", data={"models": "flowers"}, files={"file": ("big.png", big, "image/png")})
    assert r.status_code == 413 and "limit" in r.json()["error"]
    r = client.post("/api/seeing", json={"sample": "chelsea", "models": ["flowers"]})
    assert r.status_code == 415 and "form" in r.json()["error"]
    assert _files(client.root, "seeing", "uploads") == before


# ---------------------------------------------------------------------------------------------- gan
def test_gan_info_names_the_generator(client):
    info = client.get("/api/gan/info").json()
    assert info["model"] == "gan" and info["conditions"] == [] and info["modes"] == ["walk", "loop", "grid"]


def test_gan_loop_video_with_progress_and_sidecar(client):
    job = S.wait(client, queued(client.post("/api/gan", data={"mode": "loop", "seed": "3", "keys": "3",
                                                              "seconds": "1.5", "fps": "8", "size": "32"})))
    assert job["status"] == "done" and (job["done"], job["total"]) == (12, 12), job
    r = job["result"]
    assert r["mode"] == "loop" and r["frames"] == 12 and r["keyframes"] == 3 and r["video"].startswith("gan/gan-loop_")
    assert r["evenness"]["constant_speed"]["max_over_median"] <= r["evenness"]["plain"]["max_over_median"] + 1e-9
    video = client.get(f"/files/{r['video']}")
    assert video.status_code == 200 and video.content[4:8] == b"ftyp"
    side = sidecar(client, r["sidecar"])
    assert side["command"] == "latentstudio studio gan walk" and side["seed"] == 3
    assert side["params"]["loop"] is True and side["params"]["n_keys"] == 3 and side["frames"] == 12
    items = {i["path"]: i for i in client.get("/api/gallery").json()["items"]}
    assert items[r["video"]]["kind"] == "video" and items[r["video"]]["sidecar"] == r["sidecar"]


def test_gan_sample_grid(client):
    from PIL import Image

    r = done(client, client.post("/api/gan", data={"mode": "grid", "seed": "5", "n": "4", "size": "32"}))
    assert r["mode"] == "grid" and r["seeds"] == [5, 6, 7, 8] and r["image_size"] == 16
    got = client.get(f"/files/{r['image']}")
    assert got.content[:8] == b"\x89PNG\r\n\x1a\n" and min(Image.open(io.BytesIO(got.content)).size) >= 32
    side = sidecar(client, r["sidecar"])
    assert side["command"] == "latentstudio studio gan sample" and side["params"]["seeds"] == [5, 6, 7, 8]


def test_gan_walk_on_the_beats_of_a_track(client):
    r = done(client, client.post("/api/gan", files={"music": ("clicks.wav", S.clicks_wav(120.0), "audio/wav")},
                                 data={"mode": "walk", "seconds": "3", "fps": "6", "size": "32",
                                       "beats_per_key": "2"}))
    assert abs(r["bpm"] - 120) < 3 and r["beats"] >= 5 and r["max_peak_offset_frames"] <= 1
    assert r["music"] == "clicks.wav" and r["evenness"]["constant_speed"]["pace"] == "segment"
    assert client.get(f"/files/{r['video']}").content[4:8] == b"ftyp"
    assert sidecar(client, r["sidecar"])["params"]["beats_per_key"] == 2
    before = _files(client.root, "gan")
    quiet = io.BytesIO()
    S.sf.write(quiet, S.np.zeros(S.SR * 2, S.np.float32), S.SR, format="WAV", subtype="PCM_16")
    job = S.wait(client, queued(client.post("/api/gan", files={"music": ("quiet.wav", quiet.getvalue(), "audio/wav")},
                                            data={"mode": "loop", "seconds": "2", "fps": "6", "size": "32"})))
    assert job["status"] == "failed" and "silent" in job["error"] and "Traceback" not in job["error"]
    assert _files(client.root, "gan") == before


def test_gan_refuses_bad_input_and_writes_nothing(client):
    before = _files(client.root, "gan", "uploads")
    cases = [({"mode": "dance"}, "mode='dance' must be one of walk, loop, grid"),
             ({"fps": "100"}, "fps=100.0 must be between 4.0 and 30.0"),
             ({"seconds": "0"}, "seconds=0.0 must be between"),
             ({"seconds": "nan"}, "seconds=nan must be between"),
             ({"seconds": "20", "fps": "30"}, "600 frames, over the studio's 300"),
             ({"keys": "1"}, "keys=1 must be between 2 and 8"),
             ({"seed": "-1"}, "seed=-1 must be between"),
             ({"size": "4096"}, "size=4096 must be between 32 and 512"),
             ({"mode": "grid", "n": "99"}, "n=99 must be between 1 and 36"),
             ({"truncation": "abc"}, "truncation='abc' must be a number"),
             ({"condition": "blue"}, "condition='blue': the generator is unconditional")]
    for data, message in cases:
        r = client.post("/api/gan", data=data)
        assert r.status_code == 400 and message in r.json()["error"], (data, r.text)
    r = client.post("/api/gan", data={"mode": "walk"}, files={"music": ("pic.wav", S.png_bytes(), "audio/wav")})
    assert r.status_code == 415 and "pic.wav" in r.json()["error"] and "not audio" in r.json()["error"]
    r = client.post("/api/gan", data={"mode": "grid"}, files={"music": ("clicks.wav", S.clicks_wav(), "audio/wav")})
    assert r.status_code == 400 and r.json()["error"].startswith("music: ")
    r = client.post("/api/gan", files={"music": ("big.wav", b"RIFF\0\0\0\0WAVE" + b"\0" * LIMIT, "audio/wav")})
    assert r.status_code == 413 and "big.wav" in r.json()["error"]
    assert _files(client.root, "gan", "uploads") == before


@pytest.mark.parametrize("phase", ["measuring", "rendering"])
def test_a_gan_walk_cancelled_while_measuring_or_rendering_leaves_nothing(client, phase):
    import gc

    from latentstudio.web.jobs import JobCancelled

    before = _files(client.root, "gan")

    def progress(done=None, total=None, message=None):           # the job queue's progress, cancelled mid-phase
        if message and message.startswith(phase):
            raise JobCancelled("test")

    with pytest.raises(JobCancelled):
        client.app.state.studio.run_gan(mode="walk", seed=1, keys=3, seconds=4.0, fps=8, size=32, n=1,
                                        truncation=1.0, condition=None, progress=progress)
    gc.collect()
    assert _files(client.root, "gan") == before                  # no video, no sidecar, no stray .part file


@pytest.mark.skipif(importlib.util.find_spec("omniart_eye_generator") is None,
                    reason="omniart-eye-generator is not installed")
def test_gan_default_generator_is_the_pretrained_eyes(tmp_path):
    app = create_app(tmp_path / "data")
    with TestClient(app, base_url=LOCAL) as c:
        info = c.get("/api/gan/info").json()
        assert info["model"] == "omniart-eyes" and "blue" in info["conditions"]
        r = c.post("/api/gan", data={"mode": "grid", "condition": "purple"})
        assert r.status_code == 400 and "condition='purple' must be one of amber, blue" in r.json()["error"]
        r = done(c, c.post("/api/gan", data={"mode": "grid", "n": "2", "size": "32", "condition": "blue"}))
        assert r["image_size"] == 128 and r["model"] == "omniart-eyes"
        side = sidecar(c, r["sidecar"])
        assert side["models"] == ["omniart-eyes"] and "MIT" in side["licence"] and side["params"]["condition"] == "blue"


# ------------------------------------------------------------------------------------------ jobs, SSE
def test_sse_progress_then_end(client):
    job_id = queued(client.post("/api/dream", data={"sample": "chelsea", "octaves": "3", "steps": "10"}))
    with client.stream("GET", f"/api/jobs/{job_id}/events") as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        text = "".join(r.iter_text())
    events = [(m.group(1), json.loads(m.group(2))) for m in re.finditer(r"event: (\w+)\ndata: (.*)\n\n", text)]
    kinds = [k for k, _ in events]
    assert kinds[-1] == "end" and kinds.count("end") == 1 and "progress" in kinds
    assert events[-1][1]["status"] == "done" and events[-1][1]["done"] == 30
    dones = [e["done"] for k, e in events if k == "progress"]
    assert dones == sorted(dones)
    assert client.get("/api/jobs/999999/events").status_code == 404


def test_cancel_a_queued_and_a_running_job(client, monkeypatch):
    monkeypatch.setattr(client.app.state.studio, "run_dream", client.app.state.studio.run_dream)
    S.slow_steps(client.app.state.studio, 0.02)              # 150 steps: at least 3 s, cancelled long before
    running = queued(client.post("/api/dream", data={"sample": "astronaut", "octaves": "3", "steps": "50"}))
    waiting = queued(client.post("/api/dream", data={"sample": "coffee", "octaves": "1", "steps": "1"}))
    assert client.post(f"/api/jobs/{waiting}/cancel").json()["status"] == "cancelled"
    for _ in range(500):                                  # wait for the long one to take its first steps
        if client.get(f"/api/jobs/{running}").json()["done"] >= 2:
            break
        S.time.sleep(0.02)
    r = client.delete(f"/api/jobs/{running}")
    assert r.status_code == 200
    final = S.wait(client, running)
    assert final["status"] == "cancelled" and final["done"] < final["total"] == 150
    assert client.get(f"/api/jobs/{waiting}").json()["status"] == "cancelled"
    assert client.post("/api/jobs/nope/cancel").status_code == 404
    listed = {j["id"]: j["status"] for j in client.get("/api/jobs").json()["jobs"]}
    assert listed[running] == "cancelled"


def test_gallery_lists_every_artefact_with_its_provenance(client):
    done(client, client.post("/api/dream", data={"sample": "coffee", "octaves": "1", "steps": "1"}))
    items = client.get("/api/gallery").json()["items"]
    commands = {i["command"] for i in items}
    assert "latentstudio studio dream" in commands
    for it in items:
        assert client.get(f"/files/{it['path']}").status_code == 200
        side = sidecar(client, it["sidecar"])
        assert side["command"] == it["command"] and "versions" in side
        assert not any(p.startswith(".") for p in Path(it["path"]).parts)


def test_an_unexpected_error_is_one_json_line_without_a_traceback(client, monkeypatch):
    def broken():
        raise RuntimeError("disk on fire at /secret/path")

    monkeypatch.setattr(client.app.state.studio, "session_info", broken)
    r = TestClient(client.app, base_url=LOCAL, raise_server_exceptions=False).get("/api/beatbox/session")
    assert r.status_code == 500 and r.json() == {"error": "internal error (RuntimeError); see the studio's log"}


def test_unknown_settings_are_refused(tmp_path):
    with pytest.raises(TypeError, match="no_such_setting"):
        create_app(tmp_path, no_such_setting=1)


def test_studio_command_help_and_bad_options():
    from typer.testing import CliRunner

    from latentstudio.cli.main import app

    runner = CliRunner()
    r = runner.invoke(app, ["studio", "--help"])
    assert r.exit_code == 0 and "Example: latentstudio studio" in r.output and "127.0.0.1" in r.output
    r = runner.invoke(app, ["studio", "--port", "0"])
    assert r.exit_code == 2 and "--port 0" in r.output
    r = runner.invoke(app, ["studio", "--data", __file__])
    assert r.exit_code == 2 and "is a file" in r.output
    r = runner.invoke(app, ["studio", "--max-upload-mb", "-1"])
    assert r.exit_code == 2 and "--max-upload-mb" in r.output


def test_gallery_pairs_each_file_with_its_own_sidecar(tmp_path):
    from latentstudio.provenance import write_sidecar
    from latentstudio.web.files import gallery

    d = tmp_path / "beats"
    d.mkdir()
    (d / "beat.wav").write_bytes(b"RIFF")
    (d / "beat.mid").write_bytes(b"MThd")
    write_sidecar(d / "beat.wav", command="jam", params={"of": "wav"})
    write_sidecar(d / "beat.mid", command="jam", params={"of": "mid"})          # -> beat.mid.json
    (d / "notes.json").write_text('{"not": "a sidecar"}')
    hidden = tmp_path / ".cache"
    hidden.mkdir()
    (hidden / "x.png").write_bytes(b"\x89PNG")
    write_sidecar(hidden / "x.png", command="hidden")
    items = {i["sidecar"]: i for i in gallery(tmp_path)}
    assert set(items) == {"beats/beat.json", "beats/beat.mid.json"}
    assert items["beats/beat.json"]["files"] == ["beats/beat.wav"]
    assert items["beats/beat.mid.json"]["files"] == ["beats/beat.mid"]
    assert items["beats/beat.mid.json"]["kind"] == "midi"


# ---------------------------------------------------------------------------------------------- funk
def test_funk_info_names_the_shipped_vae_and_its_classes(client):
    from latentstudio.funk.data import CLASSES

    info = client.get("/api/funk/info").json()
    assert info["model"] == "shipped SampleVAE" and info["classes"] == list(CLASSES)
    assert info["renderer"] == "Griffin-Lim" and info["modes"] == ["dream", "reimagine"] and "funk" in PAGES


def test_funk_dreams_are_heard_back_saved_with_sidecars_and_repeatable(client):
    import soundfile as sf

    form = {"mode": "dream", "drum": "snare", "n": "2", "seed": "4"}
    r = done(client, client.post("/api/funk", data=form))
    assert r["mode"] == "dream" and r["renderer"] == "Griffin-Lim" and r["folder"].startswith("funk/dream-snare_")
    assert [s["name"] for s in r["sounds"]] == ["snare_00", "snare_01"]
    for s in r["sounds"]:
        y, sr = sf.read(io.BytesIO(client.get(f"/files/{s['audio']}").content))
        assert sr == 16000 and len(y) == 16000 and 0 < abs(y).max() <= 0.91
        assert 0.0 <= s["heard"] <= 1.0
        side = sidecar(client, s["sidecar"])
        assert side["command"] == "latentstudio studio funk dream" and side["params"]["listen"] is True
    again = done(client, client.post("/api/funk", data=form))
    assert again["folder"] != r["folder"]
    assert [client.get(f"/files/{s['audio']}").content for s in again["sounds"]] == \
        [client.get(f"/files/{s['audio']}").content for s in r["sounds"]]


def test_funk_reimagines_an_uploaded_sound(client):
    r = done(client, client.post("/api/funk", data={"mode": "reimagine", "variations": "2", "noise": "0.5"},
                                 files={"file": ("my kick.wav", S.clicks_wav(120.0, seconds=1.0), "audio/wav")}))
    assert r["mode"] == "reimagine" and [s["name"] for s in r["sounds"]] == ["my-kick_re00", "my-kick_re01"]
    assert all(s["heard"] is None for s in r["sounds"])
    assert client.get(f"/files/{r['sounds'][1]['audio']}").status_code == 200
    assert sidecar(client, r["sounds"][0]["sidecar"])["params"]["noise"] == 0.5


def test_funk_refuses_bad_input_and_writes_nothing(client):
    before = _files(client.root, "funk", "uploads")
    for data in ({"mode": "sing"}, {"drum": "cowbell"}, {"n": "0"}, {"n": "17"}, {"temperature": "nan"},
                 {"noise": "-1", "mode": "reimagine"}, {"listen": "maybe"}, {"seed": "x"}, {"mode": "reimagine"}):
        r = client.post("/api/funk", data=data)
        assert r.status_code == 400, (data, r.text)
        assert "error" in r.json()
    r = client.post("/api/funk", data={"mode": "reimagine"}, files={"file": ("pic.wav", S.png_bytes(), "audio/wav")})
    assert r.status_code in (400, 415)
    r = client.post("/api/funk", data={"mode": "dream"}, files={"file": ("clicks.wav", S.clicks_wav(), "audio/wav")})
    assert r.status_code == 400
    assert _files(client.root, "funk", "uploads") == before
    import numpy as np
    import soundfile as sf

    quiet = io.BytesIO()
    sf.write(quiet, np.zeros(16000, np.float32), 16000, format="WAV")
    job = S.wait(client, queued(client.post("/api/funk", data={"mode": "reimagine"},
                                            files={"file": ("quiet.wav", quiet.getvalue(), "audio/wav")})))
    assert job["status"] == "failed" and "silent" in job["error"]
    assert _files(client.root, "funk") == {p for p in before if "funk" in p.parts}


# -------------------------------------------------------------------------------------------- latent
def test_latent_map_trains_once_and_is_reused(client):
    info = client.get("/api/latent/info").json()
    assert info["sources"] == ["wordnet", "fortunes", "fashion-mnist"] and "latent" in PAGES
    form = {"source": "fortunes", "steps": "50", "seed": "2", "film": "false"}
    r = done(client, client.post("/api/latent", data=form))
    assert r["model"] == "fortunes-s2-50" and r["trained"]["steps"] == 50 and r["film"] is None
    assert client.get(f"/files/{r['map']}").content[:4] == b"\x89PNG"
    assert client.get(f"/files/{r['cartogram']}").status_code == 200
    side = sidecar(client, r["sidecar"])
    assert side["command"] == "latentstudio studio latent landscape"
    assert client.get("/api/latent/info").json()["models"] == ["fortunes-s2-50"]
    again = done(client, client.post("/api/latent", data=form))
    assert again["trained"] is None and again["map"] != r["map"]
    assert not list((client.root / "latent" / "models").glob("*.part"))


def test_latent_film_pulses_to_an_uploaded_track(client):
    r = done(client, client.post("/api/latent", data={"source": "fortunes", "steps": "50", "seed": "2"},
                                 files={"music": ("clicks.wav", S.clicks_wav(120.0, seconds=3.0), "audio/wav")}))
    f = r["film"]
    assert r["trained"] is None and f["music"] == "clicks.wav" and f["beats"] >= 4
    assert f["bpm"] == pytest.approx(120.0, rel=0.05) and f["frames"] == pytest.approx(72, abs=2)
    assert client.get(f"/files/{f['video']}").content[4:8] == b"ftyp"
    assert sidecar(client, f["sidecar"])["command"] == "latentstudio studio latent pulsations"


def test_latent_refuses_bad_input_and_writes_nothing(client):
    before = _files(client.root, "latent", "uploads")
    for data in ({"source": "poems"}, {"steps": "10"}, {"steps": "x"}, {"film": "maybe"}, {"seconds": "100"},
                 {"seed": "-1"}):
        r = client.post("/api/latent", data=data)
        assert r.status_code == 400, (data, r.text)
    r = client.post("/api/latent", data={"film": "false"}, files={"music": ("clicks.wav", S.clicks_wav(), "audio/wav")})
    assert r.status_code == 400 and "film" in r.json()["error"]
    r = client.post("/api/latent", files={"music": ("pic.wav", S.png_bytes(), "audio/wav")})
    assert r.status_code in (400, 415)
    assert _files(client.root, "latent", "uploads") == before


@pytest.mark.parametrize("phase", ["training", "filming"])
def test_a_latent_run_cancelled_while_training_or_filming_leaves_nothing(client, phase):
    import gc

    from latentstudio.web.jobs import JobCancelled

    if phase == "filming":                                   # the VAE is there: only the map and film are new
        done(client, client.post("/api/latent", data={"source": "fortunes", "steps": "50", "seed": "2", "film": "false"}))
    before = _files(client.root, "latent")

    def progress(done=None, total=None, message=None):
        if message and message.startswith(phase) and (done or 0) >= 3:
            raise JobCancelled("test")

    with pytest.raises(JobCancelled):
        client.app.state.studio.run_latent(source="fortunes", steps=50, seed=7 if phase == "training" else 2,
                                           film=True, seconds=2.0, progress=progress)
    gc.collect()
    assert _files(client.root, "latent") == before           # no model, no .part folder, no map, no film


@pytest.mark.parametrize("host, stranger", [("127.0.0.1", 421), ("localhost", 421), ("0.0.0.0", 200)])
def test_the_studio_command_answers_other_names_only_on_a_network_address(monkeypatch, tmp_path, host, stranger):
    import uvicorn
    from typer.testing import CliRunner

    from latentstudio.cli.main import app as cli

    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, **kw))
    r = CliRunner().invoke(cli, ["studio", "--host", host, "--data", str(tmp_path / "data")])
    assert r.exit_code == 0, r.output
    assert seen["host"] == host
    with TestClient(seen["app"], base_url="http://studio.lan:8765") as c:
        assert c.get("/api/health").status_code == stranger


def test_the_studio_command_trusts_a_host_it_is_told_to(monkeypatch, tmp_path):
    import uvicorn
    from typer.testing import CliRunner

    from latentstudio.cli.main import app as cli

    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, **kw))
    r = CliRunner().invoke(cli, ["studio", "--data", str(tmp_path / "data"), "--allow-host", "studio.lan"])
    assert r.exit_code == 0, r.output
    with TestClient(seen["app"], base_url="http://studio.lan:8765") as c:
        assert c.get("/api/health").status_code == 200
        assert c.get("/api/health", headers={"host": "evil.example"}).status_code == 421
