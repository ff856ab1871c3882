"""`translation serve`: a local web page and HTTP API over the models a user has trained.

catalog.py finds and describes the models (ids are the only way a request names one), loaded.py keeps the
used ones in memory (an LRU), work.py runs inference off the event loop in a bounded pool, app.py is the
Starlette app (routes, limits, token, headers, the page in static/). Starlette and uvicorn are the `serve`
extra: nothing here is imported until the command runs.
"""
