"""`translation serve`: a local web page and HTTP API over the models a user has trained.

catalog.py finds and describes the models (ids are the only way a request names one), loaded.py keeps the
used ones in memory (an LRU), work.py is the bounded pool that runs inference off the event loop, jobs.py what
a worker does (decode, translate or sample, encode), protocol.py what a request may carry (parameters, token,
body size) and how errors answer, app.py the Starlette app (routes, headers, the page in static/).
Starlette and uvicorn are the `serve` extra: nothing here is imported until the command runs.
"""
