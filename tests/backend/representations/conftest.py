"""Representation tests share the tiny random-weight CLIP (tests/clip_fixtures.py)."""

from tests.clip_fixtures import clip_dir

__all__ = ["clip_dir"]
