"""What a request to `translation serve` may carry and how a refusal answers: the JSON error, the bearer token,
the query parameters (each checked, unknown ones refused) and the body (refused at the size limit before it is
read whole). Nothing here knows about models."""
from __future__ import annotations

import hmac

from starlette.requests import Request
from starlette.responses import JSONResponse


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def error_response(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status, headers={"Cache-Control": "no-store", **(headers or {})})


def check_token(request: Request, token: str) -> None:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise ApiError(401, "missing or wrong token: send the header Authorization: Bearer <token> (the token "
                            "`translation serve --token` was started with)", {"WWW-Authenticate": "Bearer"})


class Query:
    """The query string, every parameter checked against what the endpoint knows, unknown ones refused."""

    def __init__(self, request: Request, known: tuple[str, ...]):
        self.params = request.query_params
        unknown = sorted(set(self.params) - set(known))
        if unknown:
            raise ApiError(400, f"unknown parameter {unknown[0]!r}; this endpoint takes {', '.join(known)}")

    def text(self, name: str) -> str | None:
        value = self.params.get(name)
        return None if value is None or value == "" else value

    def choice(self, name: str, choices: list, what: str) -> str | None:
        value = self.text(name)
        if value is not None and value not in choices:
            offered = ", ".join(str(c) for c in choices) or "none"
            raise ApiError(400, f"{name}={value}: {what} {offered}")
        return value

    def _converted(self, name: str, kind: type, what: str):
        value = self.text(name)
        if value is None:
            return None
        try:
            return kind(value)
        except ValueError:
            raise ApiError(400, f"{name}={value}: not {what}") from None

    def integer(self, name: str, default: int | None, low: int, high: int | None = None) -> int | None:
        number = self._converted(name, int, "a whole number")
        if number is None:
            return default
        if number < low or (high is not None and number > high):
            raise ApiError(400, f"{name}={number}: must be {low} or more" if high is None else
                           f"{name}={number}: must be between {low} and {high}")
        return number

    def positive(self, name: str) -> float | None:
        number = self._converted(name, float, "a number")
        if number is not None and not number > 0:  # NaN too
            raise ApiError(400, f"{name}={self.text(name)}: must be above 0")
        return number

    def names(self, name: str) -> list[str] | None:
        value = self.text(name)
        return None if value is None else [part.strip() for part in value.split(",") if part.strip()]


async def read_body(request: Request, limit_mb: float) -> bytes:
    """The body, refused (413) as soon as it is known to be over `limit_mb`: from Content-Length before a byte
    is read, else while it streams in; never held whole beyond the limit."""
    limit = int(limit_mb * 2 ** 20)
    too_large = ApiError(413, f"the upload is larger than the server's limit of {limit_mb:g} MB "
                              "(translation serve --max-upload-mb)")
    length = request.headers.get("content-length")
    if length is not None:
        if not length.isdigit():
            raise ApiError(400, f"Content-Length: {length!r} is not a size in bytes")
        if int(length) > limit:
            raise too_large
    chunks, total = [], 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise too_large
        chunks.append(chunk)
    if not total:
        raise ApiError(400, "no image: send the image file's bytes as the request body")
    return b"".join(chunks)
