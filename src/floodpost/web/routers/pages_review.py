"""Placeholder until its feature lands (replaced by its owner)."""

from fastapi import APIRouter

router = APIRouter()
