"""Helpers for the browser tests: a real server process (``plankg serve`` over a build, or uvicorn over
an app factory), headless Chromium, screenshots; and the fixture app the in-process page tests use."""
