"""End-to-end lookup speed: ``POST /api/v1/lookup`` served by gunicorn (2 workers).

    .venv/bin/python benchmarks/lookup_speed.py [--quick] [--db sqlite|postgres]
                                                [--pg URL] [--load-seconds 120]

1. Builds a database with the migrations, registers one real recording and one
   real 2-megapixel photograph through the registration service, then fills
   the indexes with synthetic rows: 10,000 recordings in the audio indexes
   (Chromaprint, peak quads and peak pairs, made from real music's fingerprints: see ``fill_audio``)
   and 1,000,000 image hash rows (``--quick``: 1,000 and 100,000; ``--audio-only``:
   no image rows).
2. Starts gunicorn with 2 workers on 127.0.0.1 and times, from the client,
   lookups of a 15 s MP3 clip of the recording and of a re-encoded copy of the
   photograph. The server's ``Server-Timing`` header says where the time went
   (upload, decode, fingerprint, index); "response" is the rest (HTTP, JSON,
   the database session).
3. Sustained load: image lookups at a fixed 20 per second for 2 minutes (open
   loop: requests start on schedule, whatever the earlier ones do); prints the
   rate achieved, p50/p99 and the errors.

Everything generated lives in ``benchmarks/.cache/lookup/``.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

CACHE = ROOT / "benchmarks" / ".cache" / "lookup"
SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/lookup_bench"
PORT = 8731
# Seconds to wait after gunicorn starts (settle_key_counts); more for a bigger index.
KEY_COUNTS_SETTLE_S = float(os.environ.get("LOOKUP_SPEED_SETTLE_S", "20"))
REAL_PHOTOS = 8  # registered for the local-feature lookups (--pictures)
#: Their queries, in turn: re-use variants of ``image_corpus``.
PHOTO_VARIANTS = ("crop40", "collage", "screenshot", "quadrant")
#: Real photos never registered (other sources than the registered ones and the
#: fill's descriptor pool): the lookups that find nothing (--pictures).
UNREGISTERED_PHOTOS = range(10, 14)
#: Length of the registered 720p video of ``--video-hours`` (video_accuracy's speed video).
VIDEO_MINUTES = 2.0


# --------------------------------------------------------------------------- media


def run(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True)


def song() -> Path:
    """A 50 s recording rendered from the test MIDI fixture, and a 15 s MP3 clip of it."""
    CACHE.mkdir(parents=True, exist_ok=True)
    wav, mp3 = CACHE / "song.wav", CACHE / "song.mp3"
    if not mp3.exists():
        run("fluidsynth", "-ni", "-q", "-g", "0.6", "-r", "22050", "-F", str(wav), SOUNDFONT,
            str(ROOT / "tests" / "fixtures" / "audio" / "song_a.mid"))
        run("ffmpeg", "-y", "-v", "error", "-i", str(wav), "-b:a", "128k", str(mp3))
    return mp3


def clip() -> Path:
    out = CACHE / "clip15.mp3"
    if not out.exists():
        run("ffmpeg", "-y", "-v", "error", "-ss", "17", "-t", "15", "-i", str(CACHE / "song.wav"),
            "-b:a", "128k", str(out))
    return out


def unregistered_clip() -> Path:
    """A 15 s MP3 of music that is not registered (``song_b.mid``): a lookup that finds
    nothing, so the audio pair stage runs (its cost on a miss)."""
    out = CACHE / "unregistered15.mp3"
    if not out.exists():
        wav = CACHE / "song_b.wav"
        run("fluidsynth", "-ni", "-q", "-g", "0.6", "-r", "22050", "-F", str(wav), SOUNDFONT,
            str(ROOT / "tests" / "fixtures" / "audio" / "song_b.mid"))
        run("ffmpeg", "-y", "-v", "error", "-ss", "17", "-t", "15", "-i", str(wav),
            "-b:a", "128k", str(out))
    return out


def photos() -> tuple[Path, Path]:
    """A 2-megapixel photograph (registered) and a re-encoded copy (the query)."""
    from PIL import Image, ImageDraw, ImageFilter

    original, query = CACHE / "photo_2mp.jpg", CACHE / "photo_2mp_query.jpg"
    if not query.exists():
        rng = np.random.default_rng(7)
        w, h = 1632, 1224
        y = np.linspace(0, 1, h)[:, None, None]
        sky = (np.array([40, 90, 170]) * (1 - y) + np.array([230, 200, 150]) * y)
        image = Image.fromarray(sky.repeat(w, axis=1).astype(np.uint8), "RGB")
        draw = ImageDraw.Draw(image)
        for _ in range(40):
            x0, y0 = int(rng.integers(0, w - 200)), int(rng.integers(0, h - 200))
            size = int(rng.integers(60, 420))
            colour = tuple(int(c) for c in rng.integers(0, 256, 3))
            draw.ellipse((x0, y0, x0 + size, y0 + size * 0.7), fill=colour)
        noisy = np.asarray(image.filter(ImageFilter.GaussianBlur(2)), np.float32)
        noisy += rng.normal(0, 5, noisy.shape)
        Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(original, quality=92)
        Image.open(original).save(query, quality=75)
    return original, query


# --------------------------------------------------------------------------- database


def app_config(url: str, instance: Path) -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "benchmark", "TAMGA_STORAGE_DIR": str(instance / "storage"),
        "TAMGA_OUTBOX_DIR": str(instance / "outbox"), "TAMGA_WORKER": "sync",
        "TAMGA_REDIS_URL": None, "RATELIMIT_ENABLED": False,
        "TAMGA_BASE_URL": f"http://127.0.0.1:{PORT}",
    }


def fresh_database(kind: str, pg_url: str, instance: Path) -> str:
    if instance.exists():
        shutil.rmtree(instance)
    instance.mkdir(parents=True)
    if kind == "sqlite":
        return f"sqlite:///{instance / 'tamga.db'}"
    from sqlalchemy import create_engine, text

    base, name = pg_url.rsplit("/", 1)
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return pg_url


def build(url: str, instance: Path, n_audio: int, n_image_rows: int,
          video_hours: float = 0.0, n_pictures: int = 0) -> dict[str, str]:
    """Migrate, register the real works, add the synthetic rows; returns their numbers."""
    from flask_migrate import upgrade

    from registry import create_app
    from registry.extensions import db

    app = create_app(app_config(url, instance))
    with app.app_context():
        upgrade()
    numbers = {"audio": register(app, song(), "sound_recording"),
               "image": register(app, photos()[0], "photograph")}
    if video_hours:
        from video_accuracy import fill_synthetic, speed_video

        numbers["video"] = register(app, speed_video(VIDEO_MINUTES), "audiovisual")
        with app.app_context(), db.engine.begin() as conn:
            t = time.perf_counter()
            hashes = fill_synthetic(conn, video_hours, first_id=30_000_000)
            print(f"  {hashes:,} synthetic frame hashes ({video_hours:g} h) in "
                  f"{time.perf_counter() - t:.0f} s")
    if n_pictures:
        for i, path in enumerate(real_photos()):
            numbers[f"photo{i}"] = register(app, path, "photograph", key=f"photo{i}")
        with app.app_context(), db.engine.begin() as conn:
            t = time.perf_counter()
            fill_pictures(conn, n_pictures)
            print(f"  {n_pictures:,} synthetic pictures in the local-feature index in "
                  f"{time.perf_counter() - t:.0f} s")
    with app.app_context():
        t = time.perf_counter()
        fill_audio(db.engine, n_audio)
        print(f"  {n_audio:,} synthetic recordings in {time.perf_counter() - t:.0f} s")
        t = time.perf_counter()
        fill_images(db.engine, n_image_rows)
        print(f"  {n_image_rows:,} synthetic image hash rows in {time.perf_counter() - t:.0f} s")
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
        else:
            with db.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
        db.engine.dispose()
    return numbers


def register(app, path: Path, work_type: str, key: str | None = None) -> str:
    from decimal import Decimal

    from registry.extensions import db
    from registry.models.job import Job
    from registry.models.user import User
    from registry.models.work import WorkType
    from registry.services import accounts
    from registry.services.work_metadata import AuthorInput, WorkMetadata
    from registry.services.works import Upload, register_work
    from registry.tasks import dispatch

    with app.test_request_context():
        user = db.session.scalar(db.select(User).filter_by(email="bench@example.kz"))
        if user is None:
            user = accounts.register_account("bench@example.kz", "benchmark password", "Bench")
            accounts.confirm_email_now(user)
            db.session.commit()
        meta = WorkMetadata(title=f"Benchmark {key or work_type}", work_type=WorkType(work_type),
                            authors=[AuthorInput("Bench", "author", Decimal(100))])
        with path.open("rb") as fh:
            work = register_work(user, Upload(fh, path.name), meta,
                                 settings=app.extensions["tamga.settings"])
        number = work.registration_number
        db.session.commit()
        dispatch(db.session.scalar(db.select(Job.id).filter_by(work_id=work.id)))
        db.session.commit()
    return number


def existing_numbers(url: str) -> dict[str, str]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT title, media_kind, registration_number FROM works "
                                 "WHERE title LIKE 'Benchmark %'")).all()
    engine.dispose()
    # The real photos of --pictures are named by their key, the other works by kind.
    named = (re.fullmatch(r"Benchmark (photo\d+)", title) for title, _, _ in rows)
    return {m.group(1) if m else kind: number
            for m, (_, kind, number) in zip(named, rows, strict=True)}


def fill_audio(engine, n: int) -> None:
    """``n`` synthetic recordings in both audio indexes (Chromaprint and the peaks),
    made from the fingerprints of the real music of ``real_music.py`` (see
    ``audio_speed_real.Filler``): key frequencies like real music's, not uniform."""
    if n <= 0:
        return
    from audio_real import reference_fingerprints
    from audio_speed_real import Filler
    from real_music import music_files

    from registry.core.matching import audio_index, pair_index, peak_index

    tracks = music_files()
    if not tracks:
        raise SystemExit("no real music installed: run benchmarks/real_music.py first")
    prints = [fps for fps in map(reference_fingerprints, tracks[:120]) if fps is not None]
    filler = Filler([c.items for c, _ in prints], [p for _, p in prints], seed=3)
    for start in range(0, n, 500):
        ids = range(10_000_000 + start, 10_000_000 + min(n, start + 500))
        with engine.begin() as conn:
            audio_index.add_recordings(conn, [(w, filler.chroma()) for w in ids])
            peaks = [(w, filler.peaks()) for w in ids]
            peak_index.add_recordings(conn, peaks)
            pair_index.add_recordings(conn, peaks)


def real_photos() -> list[Path]:
    """Real photographs registered for the local-feature lookups (``real_photos.py``)."""
    from real_photos import photo_files

    return photo_files(120)[:REAL_PHOTOS]


def fill_pictures(conn, n: int) -> None:
    """``n`` synthetic pictures in the local-feature index, drawn from real photos'
    descriptors as ``image_feature_speed.py`` makes them (its ``fill``)."""
    from image_feature_speed import fill
    from real_photos import photo_files

    from registry.core import image_features

    pool = np.vstack([image_features.registration_features(p).descriptors
                      for p in photo_files(120)[20:120]])  # fmt: skip
    fill(conn, pool, 40_000_000, n)


def picture_query(i: int, variant: str) -> Path:
    """A 2 MP JPEG of real photo ``i`` under a re-use variant (``image_corpus``)."""
    import random as _random

    from image_corpus import REUSE_VARIANTS
    from image_feature_speed import two_megapixels
    from PIL import Image

    out = CACHE / f"photo{i}_{variant}.jpg"
    if not out.exists():
        img = Image.open(real_photos()[i]).convert("RGB")
        data = REUSE_VARIANTS[variant](img, _random.Random(i), [img.rotate(180)] * 3)
        img = Image.open(io.BytesIO(data)).convert("RGB")
        img.resize(two_megapixels(img), Image.Resampling.LANCZOS).save(out, quality=90)
    return out


def unregistered_photo(i: int) -> Path:
    """Real photo ``i`` (not registered) as a 2 MP JPEG."""
    from image_feature_speed import two_megapixels
    from PIL import Image
    from real_photos import photo_files

    out = CACHE / f"unregistered_photo{i}.jpg"
    if not out.exists():
        img = Image.open(photo_files(120)[i]).convert("RGB")
        img.resize(two_megapixels(img), Image.Resampling.LANCZOS).save(out, quality=90)
    return out


def fill_images(engine, n_rows: int) -> None:
    from registry.core.matching.image_index import add_raw_hashes

    rng = random.Random(2)
    per_work = 10
    for start in range(0, n_rows, 100_000):
        rows = [(20_000_000 + i // per_work, i % per_work, rng.getrandbits(64))
                for i in range(start, min(n_rows, start + 100_000))]
        with engine.begin() as conn:
            add_raw_hashes(conn, rows)


# --------------------------------------------------------------------------- serving


def start_gunicorn(url: str, instance: Path) -> subprocess.Popen:
    factory = f"registry:create_app({app_config(url, instance)!r})"
    cmd = [str(ROOT / ".venv" / "bin" / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{PORT}",
           "--timeout", "60", "--log-level", "warning", factory]
    proc = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True)
    for _ in range(100):
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited (is port {PORT} taken?)")
        try:
            status, _, _ = post_json({"sha256": "0" * 64})
            if status == 200:
                settle_key_counts()
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("gunicorn did not start")


def settle_key_counts() -> None:
    """Each worker loads its copy of the audio indexes' key counts when its first
    audio lookup asks for it (``registry.core.matching.key_counts``: a full scan,
    ~4 s at 10,000 recordings); a served registry does that once, so a few audio
    lookups go first (both workers get some) and the timing waits for the loads."""
    if os.environ.get("TAMGA_KEY_COUNTS_REFRESH", "").strip() in ("0", "0.0"):
        return
    print(f"  (waiting {KEY_COUNTS_SETTLE_S} s for the workers' key-count copies)")
    body = multipart(clip())
    for _ in range(6):
        post_file(body)
    time.sleep(KEY_COUNTS_SETTLE_S)


def stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)


def _request(body: bytes, content_type: str) -> tuple[int, dict, str]:
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    try:
        conn.request("POST", "/api/v1/lookup", body=body, headers={"Content-Type": content_type})
        response = conn.getresponse()
        data = response.read()
        return response.status, json.loads(data or b"{}"), response.getheader("Server-Timing", "")
    finally:
        conn.close()


def post_json(payload: dict) -> tuple[int, dict, str]:
    return _request(json.dumps(payload).encode(), "application/json")


def multipart(path: Path) -> tuple[bytes, str]:
    boundary = "tamgabenchmarkboundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"{path.name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").encode()
    return head + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode(), \
        f"multipart/form-data; boundary={boundary}"


def post_file(body: tuple[bytes, str]) -> tuple[int, dict, str, float]:
    t = time.perf_counter()
    status, data, timing = _request(*body)
    return status, data, timing, time.perf_counter() - t


def parse_timing(header: str) -> dict[str, float]:
    out = {}
    for part in filter(None, (p.strip() for p in header.split(","))):
        name, _, dur = part.partition(";dur=")
        out[name] = float(dur)
    return out


# --------------------------------------------------------------------------- measuring


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))]


def latency(label: str, path: Path, expect: str, runs: int) -> list[float]:
    """Time ``runs`` lookups of ``path`` (after 3 untimed ones); print the figures and
    return the end-to-end times (ms)."""
    body = multipart(path)
    for _ in range(3):
        post_file(body)
    totals, parts, found, answered = [], [], 0, 0
    for _ in range(runs):
        status, data, timing, seconds = post_file(body)
        assert status == 200, (status, data)
        found += bool(data["matches"]) and data["matches"][0]["registration_number"] == expect
        answered += bool(data["matches"])
        totals.append(seconds * 1000)
        parts.append(parse_timing(timing))
    names = ["upload", "decode", "fingerprint", "index"]
    median = {n: statistics.median(p.get(n, 0.0) for p in parts) for n in names}
    rest = statistics.median(t - sum(p.values()) for t, p in zip(totals, parts, strict=True))
    outcome = (f"{found}/{runs} found the registered work" if expect else
               f"{answered}/{runs} answered a match (a false match)")
    print(f"\n{label}: {runs} lookups, {outcome}; "
          f"works compared: {data['checked']['works_compared']:,}")
    print(f"  {'end-to-end p50':<18}{statistics.median(totals):8.1f} ms   "
          f"p90 {pct(totals, 0.9):.1f} ms   p95 {pct(totals, 0.95):.1f} ms   "
          f"max {max(totals):.1f} ms")
    for n in names:
        print(f"  {n:<18}{median[n]:8.1f} ms")
    print(f"  {'response/other':<18}{rest:8.1f} ms")
    return totals


def sustained(path: Path, seconds: float, rate: float = 20.0) -> None:
    body = multipart(path)
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def one() -> None:
        try:
            status, _, _, took = post_file(body)
        except OSError as exc:
            with lock:
                errors.append(type(exc).__name__)
            return
        with lock:
            latencies.append(took)
            if status != 200:
                errors.append(str(status))

    start = time.perf_counter()
    n = int(seconds * rate)
    with ThreadPoolExecutor(max_workers=64) as pool:
        for i in range(n):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(one)
    elapsed = time.perf_counter() - start
    ms = [x * 1000 for x in latencies]
    print(f"\nSustained image lookups: {n} requests scheduled at {rate:g}/s over {seconds:g} s")
    print(f"  completed {len(latencies)} in {elapsed:.1f} s = {len(latencies) / elapsed:.1f}/s; "
          f"errors {len(errors)} {sorted(set(errors))}")
    print(f"  p50 {statistics.median(ms):.1f} ms   p90 {pct(ms, 0.9):.1f} ms   "
          f"p99 {pct(ms, 0.99):.1f} ms   max {max(ms):.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg", default=PG_DEFAULT)
    parser.add_argument("--load-seconds", type=float, default=None)
    parser.add_argument("--audio-only", action="store_true",
                        help="no image rows, no image lookups, no sustained load")
    parser.add_argument("--recordings", type=int, default=None,
                        help="synthetic recordings in the audio indexes (default 10,000; "
                             "--quick 1,000)")
    parser.add_argument("--video-hours", type=float, default=0.0,
                        help="also register a real 720p video, fill the frame index with "
                             "this many synthetic hours and time 10 s video clips")
    parser.add_argument("--pictures", type=int, default=0,
                        help="also register real photos, fill the local-feature index with "
                             "this many synthetic pictures and time crops and collages")
    parser.add_argument("--reuse", action="store_true",
                        help="measure again on the database built by an earlier run")
    args = parser.parse_args()
    n_audio, n_image = (1000, 100_000) if args.quick else (10_000, 1_000_000)
    if args.audio_only:
        n_image = 0
    if args.recordings is not None:
        n_audio = args.recordings
    load_seconds = args.load_seconds or (20.0 if args.quick else 120.0)
    instance = CACHE / f"instance-{args.db}"
    if args.reuse:
        url = f"sqlite:///{instance / 'tamga.db'}" if args.db == "sqlite" else args.pg
        numbers = existing_numbers(url)
    else:
        print(f"Lookup speed on {args.db}: building the database ...")
        url = fresh_database(args.db, args.pg, instance)
        numbers = build(url, instance, n_audio, n_image, args.video_hours, args.pictures)
    proc = start_gunicorn(url, instance)
    try:
        runs = 15 if args.quick else 40
        if "video" in numbers:
            from video_accuracy import speed_clip, speed_video

            for variant in ("reencode_360p", "vertical_crop", "mirror"):
                latency(f"10 s video clip ({variant})", speed_clip(
                    speed_video(VIDEO_MINUTES), VIDEO_MINUTES, variant), numbers["video"], runs)
        pictures = "photo0" in numbers
        pooled: list[float] = []
        for i in range(REAL_PHOTOS if pictures else 0):
            variant = PHOTO_VARIANTS[i % len(PHOTO_VARIANTS)]
            pooled += latency(f"2 MP JPEG, {variant} of real photo {i} (local features)",
                              picture_query(i, variant), numbers[f"photo{i}"], runs // 2)
        for i in UNREGISTERED_PHOTOS if pictures else ():
            pooled += latency(f"2 MP JPEG of unregistered real photo {i} (a miss)",
                              unregistered_photo(i), "", runs // 2)
        if pooled:
            print(f"\nAll {len(pooled)} lookups of the 2 MP JPEGs above: p50 "
                  f"{statistics.median(pooled):.1f} ms   p90 {pct(pooled, 0.9):.1f} ms   "
                  f"p95 {pct(pooled, 0.95):.1f} ms")
        latency("15 s MP3 clip", clip(), numbers["audio"], runs)
        latency("15 s MP3 clip of unregistered music (a miss: pair stage)",
                unregistered_clip(), "", runs)
        if not args.audio_only:
            latency("2-megapixel JPEG (re-encoded)", photos()[1], numbers["image"], runs)
            sustained(photos()[1], load_seconds)
    finally:
        stop(proc)


if __name__ == "__main__":
    main()
