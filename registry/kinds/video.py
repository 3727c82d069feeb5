"""The video kind: per-second PDQ frame hashes in the frame index, the soundtrack
in the audio index (through the audio kind), key frames for the pages.

Tracks it fills: ``"frames"`` — a :class:`FrameHashes` (the picture), and
``"audio"`` — the soundtrack's Chromaprint fingerprint(s), which the audio
kind searches like any recording (so a song used in a video, and a video's
sound used in a song, are found both ways). It searches ``"frames"`` and, for
an image query, ``"still"`` (a picture's pixels: a frame grab is matched
against video frames).

A video work found by both kinds is one match (:meth:`VideoKind.combine`):
``tracks`` lists which of ``picture`` and ``sound`` matched, each with its
own score and segment.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from flask_babel import lazy_gettext as _l
from PIL import Image
from sqlalchemy import Connection

from registry.core import iscc
from registry.core.audio import fingerprint_file, fingerprint_query
from registry.core.errors import CorruptMedia, MediaError, UnsupportedMediaType
from registry.core.matching import video_index
from registry.core.media import MediaLimits
from registry.core.tamga_verify import video_fingerprint_digest
from registry.core.video import (
    FrameHashes,
    fingerprint_video,
    grab_frames,
    probe_video,
    query_frames,
    still_query,
)
from registry.kinds import (
    WEAK_SIMILARITY,
    Fingerprinted,
    Fraction,
    Hit,
    IndexSpec,
    MediaKind,
    Query,
    Segment,
    count_rows,
    get,
)
from registry.kinds.audio import TRACK as AUDIO_TRACK
from registry.kinds.audio import compare_fingerprints, query_limits

SAME_VIDEO = "same_video"
SAME_VIDEO_SCORE = 0.5
TRACK = "frames"
STILL_TRACK = "still"
PICTURE, SOUND = "picture", "sound"
REPORT_FRAMES = 4
#: Picture and sound agree when they place the query this close (seconds).
AGREE_S = 2.0


def meaning(score: float) -> str:
    return SAME_VIDEO if score >= SAME_VIDEO_SCORE else WEAK_SIMILARITY


class VideoKind(MediaKind):
    name = "video"
    fingerprint_name = "pdq-frames"
    meanings = (SAME_VIDEO, WEAK_SIMILARITY)
    indexes = (IndexSpec("video", video_index.rebuild),)
    magic = frozenset({"video"})
    match_label = _l("same video")
    meaning_labels = {SAME_VIDEO: _l("Same video")}
    default_work_type = "audiovisual"
    exclusive_work_types = frozenset()
    wrong_file_message = _l("An audiovisual work needs a video file.")

    def check_upload(self, path: Path, limits: MediaLimits) -> None:
        probe_video(path, limits)

    # fingerprint ---------------------------------------------------------------------
    def fingerprint(self, path: Path, limits: MediaLimits, *,
                    progress: Fraction | None = None) -> Fingerprinted:
        prints = fingerprint_video(path, limits, progress=progress)
        sound = _soundtrack(path, limits) if prints.info.has_sound else None
        if not len(prints.frames) and sound is None:
            raise CorruptMedia.because("video_nothing_usable")
        tracks: dict[str, Any] = {TRACK: prints.search}
        if sound is not None:
            tracks[AUDIO_TRACK] = [sound]
        digest = video_fingerprint_digest(prints.frames.hex_rows(),
                                          sound.digest() if sound is not None else None)
        middle = prints.key_frames[len(prints.key_frames) // 2] if prints.key_frames else None
        code = (iscc.image_content_code(Image.open(io.BytesIO(middle.jpeg)).convert("RGB"))
                if middle else iscc.audio_content_code(sound.items))  # type: ignore[union-attr]
        attributes = {"duration_s": round(prints.info.duration_s, 2),
                      "width": prints.info.width or None, "height": prints.info.height or None}
        return Fingerprinted(digest, code, Query(self.name, tracks), attributes,
                             thumbnail=middle.jpeg if middle else None,
                             key_frames=[(k.time_s, k.jpeg) for k in prints.key_frames],
                             extra={"frames": prints.frames, "sound": sound})

    def query(self, path: Path, limits: MediaLimits, *, want_thumbnail: bool = False,
              max_seconds: float | None = None) -> Query:
        # the sound (decoded and fingerprinted by other processes) while the picture decodes
        with ThreadPoolExecutor(max_workers=1) as pool:
            sound = (pool.submit(_query_sound, path, limits, max_seconds)
                     if probe_video(path, limits).has_sound else None)
            prints = query_frames(path, limits, max_seconds=max_seconds)
            tracks: dict[str, Any] = {TRACK: prints.frames}
            if sound is not None and (fingerprints := sound.result()) is not None:
                tracks[AUDIO_TRACK] = fingerprints
        if not len(prints.frames) and AUDIO_TRACK not in tracks:
            raise CorruptMedia.because("video_nothing_usable")
        return Query(self.name, tracks, {
            "duration_s": round(prints.info.duration_s, 2),
            "width": prints.info.width, "height": prints.info.height,
            "frames_compared": int(np.unique(prints.frames.times).size)})

    # index -------------------------------------------------------------------------------
    def add(self, conn: Connection, work_id: int, fp: Fingerprinted) -> None:
        video_index.add_video(conn, work_id, fp.extra["frames"])
        sound = fp.extra.get("sound")
        audio = get("audio")
        if sound is not None and audio is not None:
            audio.add_fingerprint(conn, work_id, sound)  # type: ignore[attr-defined]

    def remove(self, conn: Connection, work_id: int) -> bool:
        audio = get("audio")
        if audio is not None:
            audio.remove(conn, work_id)
        return video_index.remove_video(conn, work_id)

    def count(self, conn: Connection) -> int:
        return count_rows(conn, video_index.video_works)

    def search(self, conn: Connection, query: Query, *, limit: int = 10) -> list[Hit]:
        frames: FrameHashes | None = query.tracks.get(TRACK)
        if frames is None and query.tracks.get(STILL_TRACK) is not None:
            frames = still_query(query.tracks[STILL_TRACK])
        if frames is None or not len(frames):
            return []
        return [Hit(m.work_id, m.score, self.name, meaning(m.score), _picture_details(m),
                    Segment(m.query_start, m.query_end, m.work_start, m.work_end),
                    m.work_duration)
                for m in video_index.search(conn, frames, limit=limit)]

    def combine(self, hits: list[Hit]) -> Hit:
        """Picture (this kind's hit) and sound (the audio kind's) as one match."""
        tracks: dict[str, Hit] = {}
        for hit in hits:
            track = PICTURE if hit.kind == self.name else SOUND
            if track not in tracks or hit.score > tracks[track].score:
                tracks[track] = hit
        main = tracks.get(PICTURE) or tracks[SOUND]
        score = max(h.score for h in tracks.values())
        details = dict(main.details)
        details["tracks"] = {
            name: {"score": round(h.score, 4),
                   "segment": h.segment.as_dict() if h.segment else None}
            for name, h in sorted(tracks.items())}
        if _agree(tracks.get(PICTURE), tracks.get(SOUND)):
            # Two independent witnesses at the same place: the chance that both are wrong
            # is the product of the chances that each is. It also ranks the video whose
            # picture and sound agree above one whose music merely repeats the same theme.
            score = 1.0 - (1.0 - tracks[PICTURE].score) * (1.0 - tracks[SOUND].score)
            details["tracks_agree"] = True
        duration = max((h.work_duration_s or 0.0) for h in tracks.values()) or None
        return Hit(main.work_id, score, self.name, meaning(score), details, main.segment,
                   duration)

    # serialise ----------------------------------------------------------------------------
    def media_fields(self, work: Any) -> dict[str, Any]:
        return {"duration_s": work.duration_s, "width": work.width, "height": work.height,
                "key_frames": [round(float(k["t"]), 2) for k in (work.key_frames or [])]}

    def match_fields(self, details: dict[str, Any], segment: Segment | None) -> dict[str, Any]:
        tracks = details.get("tracks") or {PICTURE: {"score": None}}
        fields: dict[str, Any] = {
            "tracks": [t for t in (PICTURE, SOUND) if t in tracks],
            "track_scores": {t: tracks[t].get("score") for t in (PICTURE, SOUND) if t in tracks},
        }
        if segment is not None:
            fields["segment"] = segment.as_dict()
        return fields

    def stored_match_fields(self, details: dict[str, Any]) -> dict[str, Any]:
        seg = details
        segment = (Segment(seg["query_start"], seg["query_end"], seg["work_start"],
                           seg["work_end"]) if "work_start" in seg else None)
        return self.match_fields(details, segment)

    def identical(self, measured: dict[str, Any]) -> tuple[dict[str, Any], Segment | None]:
        whole = measured.get("duration_s")
        return ({"tracks": {PICTURE: {"score": 1.0}}},
                Segment(0.0, whole, 0.0, whole) if whole else None)

    # compare -------------------------------------------------------------------------------
    def compare(self, conn: Connection, query: Query | int, work_id: int,
                numbers: tuple[str | None, str]) -> dict[str, Any]:
        from registry.core.matching import audio_index

        work_frames = video_index.load_frames(conn, work_id)
        if isinstance(query, int):
            frames = video_index.load_frames(conn, query)
            sound = audio_index.load_fingerprint(conn, query)
            sounds = [sound] if sound is not None else []
        else:
            frames = query.tracks.get(TRACK)
            sounds = list(query.tracks.get(AUDIO_TRACK) or [])
        out: dict[str, Any] = {}
        work_sound = audio_index.load_fingerprint(conn, work_id)
        if sounds and work_sound is not None:  # soundtracks: not the registered digest
            out = compare_fingerprints(sounds, work_sound, (None, None))
        if frames is not None and work_frames is not None and len(frames):
            match = _align(frames, work_id, work_frames)
            if match is not None:
                out["similarity"] = max(float(out.get("similarity") or 0.0), match.score)
                pairs = [[round(q, 3), round(w, 3), d] for q, w, d in match.frame_pairs]
                out["video"] = {
                    "segment": [match.query_start, match.query_end, match.work_start,
                                match.work_end],
                    "speed": match.speed, "mirrored": match.mirrored, "frames": pairs[:12],
                }
                query_sound = (sounds[0].digest() if isinstance(query, int) and sounds
                               else None)
                out.setdefault("fingerprints", {})["video"] = {
                    "algorithm": "PDQ (pdqhash), 256 bits per frame, hex; one frame per "
                                 "second (registered), two per second (query); Hamming "
                                 "distances of the aligned frames",
                    "query": {"registration_number": numbers[0], "frames": frames.hex_rows(),
                              "sound_digest": query_sound},
                    "work": {"registration_number": numbers[1],
                             "frames": work_frames.hex_rows(),
                             "sound_digest": work_sound.digest() if work_sound else None},
                    "pairs": pairs,
                    "similarity": match.score,
                }
        return out

    def illustrate(self, comparison: dict[str, Any], query_path: Path, work_path: Path,
                   put: Callable[[bytes], str]) -> None:
        """Matched frames of both videos, side by side in the report (the first four)."""
        section = comparison.get("video")
        if not section:
            return
        pairs = section["frames"][:REPORT_FRAMES]
        query = grab_frames(query_path, [q for q, _, _ in pairs])
        work = grab_frames(work_path, [w for _, w, _ in pairs])
        section["stills"] = [[put(q), put(w)] for q, w in zip(query, work, strict=False)]

    def bundle_side(self, conn: Connection, work_id: int) -> dict[str, Any]:
        from registry.core.matching import audio_index

        frames = video_index.load_frames(conn, work_id)
        if frames is None:
            return {}
        sound = audio_index.load_fingerprint(conn, work_id)
        return {"frames": frames.hex_rows(),
                "sound_digest": sound.digest() if sound is not None else None}


def _agree(picture: Hit | None, sound: Hit | None) -> bool:
    """Picture and sound place the excerpt at the same time of the video (within
    ``AGREE_S``: the two tracks are aligned at different resolutions)."""
    if picture is None or sound is None or picture.segment is None or sound.segment is None:
        return False
    p, s = picture.segment, sound.segment
    return abs((p.work_start - p.query_start) - (s.work_start - s.query_start)) <= AGREE_S


def _align(query: FrameHashes, work_id: int, frames: FrameHashes
           ) -> video_index.VideoMatch | None:
    """The query's frames against one registered video (no index: both are at hand)."""
    if np.unique(query.times).size == 1:
        return video_index._still(query, work_id, frames)
    q: list[np.ndarray] = []
    w: list[np.ndarray] = []
    for start in range(0, len(query), 256):  # bounded memory for two long films
        dist = video_index.hamming_rows(query.bits[start:start + 256], frames.bits)
        i, j = np.nonzero(dist <= video_index.MATCH_BITS)
        q.append(query.times[start + i])
        w.append(frames.times[j])
    if not sum(a.size for a in q):
        return None
    _, slope, offset = video_index._best_line(np.concatenate(q), np.concatenate(w))
    return video_index._verify(query, work_id, frames, slope, offset)


def _query_sound(path: Path, limits: MediaLimits, max_seconds: float | None):
    try:
        return fingerprint_query(path, query_limits(limits), max_seconds=max_seconds)
    except MediaError:
        return None  # a clip whose sound is silent or too short: the picture decides


def _picture_details(m: video_index.VideoMatch) -> dict[str, Any]:
    return {"query_start": m.query_start, "query_end": m.query_end,
            "work_start": m.work_start, "work_end": m.work_end,
            "matched_seconds": m.matched_seconds, "mean_distance": m.mean_distance,
            "speed": m.speed, "mirrored": m.mirrored}


def _soundtrack(path: Path, limits: MediaLimits):
    """The soundtrack's fingerprint, or None when it is silent or too short to count."""
    try:
        return fingerprint_file(path, limits)
    except (MediaError, UnsupportedMediaType):
        return None
