"""Peer review (chấm chéo): the head assigns reviewers and runs the round; reviewers score their peers."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("reviews", __name__, url_prefix="/reviews")
