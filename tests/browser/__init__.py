"""Helpers for the browser tests: the app over the fixture, a real uvicorn server, headless Chromium."""
