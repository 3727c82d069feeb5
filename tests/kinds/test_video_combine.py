"""A video's picture and sound, found by two kinds, combine into one ranked match."""

from __future__ import annotations

import pytest

from registry import kinds
from registry.kinds import Hit, Segment


def _hit(work_id: int, score: float, kind: str, query_start: float, work_start: float) -> Hit:
    segment = Segment(query_start, query_start + 10.0, work_start, work_start + 10.0)
    return Hit(work_id, score, kind, "same_video", {}, segment, 30.0)


def test_picture_and_sound_at_the_same_place_outrank_sound_alone():
    """Music that repeats a theme matches a sibling video's sound as well as the right
    one's; the video whose picture agrees with its sound must come first."""
    video = kinds.get("video")
    right = video.combine([_hit(7, 0.88, "video", 0.0, 12.0), _hit(7, 0.85, "audio", 0.5, 12.4)])
    sibling = video.combine([_hit(9, 0.90, "audio", 0.0, 3.0)])
    assert right.score == pytest.approx(1 - 0.12 * 0.15)
    assert right.score > sibling.score == 0.90
    assert right.details["tracks"]["picture"]["score"] == 0.88
    assert right.details["tracks"]["sound"]["score"] == 0.85
    assert right.segment.work_start == 12.0  # the picture's segment is the match's
    assert right.details["tracks_agree"] is True and "tracks_agree" not in sibling.details


def test_tracks_that_disagree_on_the_time_do_not_reinforce_each_other():
    video = kinds.get("video")
    apart = video.combine([_hit(7, 0.88, "video", 0.0, 12.0), _hit(7, 0.85, "audio", 0.0, 40.0)])
    assert apart.score == 0.88 and "tracks_agree" not in apart.details
    assert sorted(apart.details["tracks"]) == ["picture", "sound"]
