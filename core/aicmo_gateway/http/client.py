"""``HttpClient``: one httpx client per provider instance, speaking the chain's error taxonomy."""

from __future__ import annotations

import json as jsonlib
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from loguru import logger as _loguru

from aicmo_gateway.errors import Ambiguous, AuthError, InvalidInput, ProviderError, Unavailable
from aicmo_gateway.http.status import error_for_status, retry_after_of
from aicmo_gateway.logs import add_call_context
from aicmo_gateway.scrub import Scrubber
from aicmo_gateway.secret import Secret

if TYPE_CHECKING:
    import httpx

__all__ = ["HttpClient", "HttpResponse"]

#: the most of a response body read into memory (a hostile or broken server cannot exhaust it)
DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024
_DETAIL_FIELDS = ("message", "error_description", "error", "detail", "errors", "reason", "name")


#: the hint when httpx is missing (tests/test_install_hints.py keeps it equal to known.py's)
HTTPX_MISSING = (
    "this provider needs httpx: install the core's http extra from a checkout of the "
    "aicmo-gateway repository (it is not on PyPI yet) with: pip install '.[http]'"
)


#: each line carries the running call's capability, provider (instance) and call id
logger = _loguru.patch(add_call_context)


def _import_httpx() -> Any:
    try:
        import httpx
    except ImportError:  # pragma: no cover - exercised in a subprocess test
        raise ImportError(HTTPX_MISSING) from None
    return httpx


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("aicmo-gateway")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


class HttpResponse:
    """A read response: status, headers and the (bounded) body; ``json()`` parses it."""

    __slots__ = ("_scrub", "content", "headers", "status", "write")

    def __init__(
        self,
        status: int,
        headers: Mapping[str, str],
        content: bytes,
        *,
        write: bool,
        scrub: Callable[[str], str],
    ) -> None:
        self.status = status
        self.headers = headers
        self.content = content
        self.write = write
        self._scrub = scrub

    def __repr__(self) -> str:
        return f"HttpResponse(status={self.status}, bytes={len(self.content)})"

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body as JSON; a body that is not JSON is a provider error, never a crash.

        After a write the error is ``Ambiguous`` (the service answered, so it may have done
        the work, but its receipt cannot be read); after a read it is ``Unavailable``.
        """
        try:
            return jsonlib.loads(self.content)
        except (ValueError, RecursionError) as exc:
            detail = self._scrub(self.text[:120])
            message = f"HTTP {self.status}: the body is not JSON ({exc}): {detail!r}"
            if self.write:
                raise Ambiguous(message + "; the write may have been performed") from None
            raise Unavailable(message) from None

    def detail(self) -> str:
        """A short, secret-free description of the body, for error messages."""
        return _detail(self.content, self._scrub)


class HttpClient:
    """An async HTTP client for one provider instance.

    Every request has a timeout, follows no redirects, reads at most ``max_response_bytes``,
    and raises the core's errors: 429 and 503 carry the wait the service asked for, a 5xx or a
    broken connection after a write's body was sent is ``Ambiguous``. Header values and
    ``secrets`` given as :class:`~aicmo_gateway.Secret` (or plain strings in ``secrets``) are
    removed from every error text and log line, also when the server echoes them back,
    base64- or URL-encoded.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 30.0,
        headers: Mapping[str, str | Secret] | None = None,
        secrets: Iterable[str | Secret] = (),
        provider: str | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        transport: httpx.AsyncBaseTransport | None = None,
        verify: Any = True,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.provider = provider
        self.max_response_bytes = max_response_bytes
        self._headers = dict(headers or {})
        values = [s.reveal() if isinstance(s, Secret) else s for s in secrets]
        values += [v.reveal() for v in self._headers.values() if isinstance(v, Secret)]
        # "Bearer <token>", "Basic <credentials>": the credential alone is a secret too
        values += [word for value in values for word in value.split() if len(word) >= 8]
        self._secret_values = [v for v in values if v]
        self._scrubber = Scrubber(self._secret_values)
        self._transport = transport
        self._verify = verify
        self._client: httpx.AsyncClient | None = None

    def __repr__(self) -> str:
        return f"HttpClient(base_url={self.base_url!r}, provider={self.provider!r})"

    def add_secrets(self, *secrets: str | Secret) -> None:
        """Mask these too from now on (tokens a session obtains after the client was built)."""
        values = [s.reveal() if isinstance(s, Secret) else s for s in secrets]
        self._secret_values += [v for v in values if v and v not in self._secret_values]
        self._scrubber = Scrubber(self._secret_values)

    def scrub(self, text: str) -> str:
        """``text`` with every known secret (and its common encodings) masked."""
        return self._scrubber(text)

    def _open(self) -> httpx.AsyncClient:
        if self._client is None:
            httpx = _import_httpx()
            headers = {"user-agent": f"aicmo-gateway/{_version()}"}
            self._client = httpx.AsyncClient(
                base_url=self.base_url,
                follow_redirects=False,
                trust_env=False,
                transport=self._transport,
                verify=self._verify,
                headers=headers,
            )
        return self._client

    async def request(
        self,
        method: str,
        path: str,
        *,
        write: bool,
        json: Any = None,
        content: bytes | None = None,
        data: Mapping[str, str] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str | Secret] | None = None,
        timeout: float | None = None,
        raise_for_status: bool = True,
        extensions: Mapping[str, Any] | None = None,
    ) -> HttpResponse:
        """Send one request and return its response, or raise the error it means.

        The body is ``json`` (a JSON document), ``content`` (raw bytes, e.g. an image upload:
        set its ``Content-Type`` in ``headers``), or a form: ``data`` alone is URL-encoded, with
        ``files`` it is ``multipart/form-data`` (``files`` maps a field to ``(filename, bytes,
        content_type)``). ``write`` says whether the request has a side effect (it decides
        what an unclear ending means). With ``raise_for_status=False`` every answer is
        returned, for adapters that read a vendor's own error codes first (then call
        :meth:`raise_for`).

        ``content`` is sent byte for byte, so a signature over it holds. ``path`` may be an
        absolute URL, which replaces the base URL for this request; ``extensions`` are
        httpcore's request extensions, e.g. ``{"sni_hostname": name}`` to connect to an address
        already resolved while TLS verifies the certificate for ``name`` (send ``Host: name``
        in ``headers`` too).
        """
        if sum(body is not None for body in (json, content, data or files)) > 1:
            raise ValueError("HttpClient.request: give one body: json, content, or data/files")
        client = self._open()
        httpx = _import_httpx()
        merged = {**self._headers, **(headers or {})}
        sent = {k: (v.reveal() if isinstance(v, Secret) else v) for k, v in merged.items()}
        for key, value in sent.items():
            if any(char in value for char in "\r\n\0") or any(char in key for char in "\r\n\0:"):
                raise InvalidInput(f"header {key!r}: control characters are not allowed")
        started = time.perf_counter()
        try:
            async with client.stream(
                method,
                path,
                json=json,
                content=content,
                data=data,
                files=files,
                params=params,
                headers=sent,
                timeout=self.timeout if timeout is None else timeout,
                extensions=dict(extensions) if extensions else None,
            ) as answer:
                content = await self._read(answer, write=write)
                status, answer_headers = answer.status_code, dict(answer.headers)
        except ProviderError:
            raise
        except httpx.InvalidURL as exc:
            reason = self.scrub(str(exc))
            raise InvalidInput(f"{method} {path}: not a valid URL ({reason})") from None
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            text = self._transport_text(method, path, exc)
            raise Unavailable(text + "; nothing was sent") from None
        except (httpx.TransportError, httpx.StreamError) as exc:
            text = self._transport_text(method, path, exc)
            if write:
                raise Ambiguous(text + "; the request may have been processed") from None
            raise Unavailable(text) from None
        elapsed = time.perf_counter() - started
        logger.bind(provider_type=self.provider).debug(
            "{} {} -> {} in {:.0f} ms",
            method,
            self.scrub(path.split("?")[0]),
            status,
            elapsed * 1000,
        )
        response = HttpResponse(status, answer_headers, content, write=write, scrub=self.scrub)
        if raise_for_status:
            self.raise_for(response)
        return response

    def raise_for(self, response: HttpResponse) -> None:
        """Raise the error ``response``'s status means (nothing for a 2xx answer)."""
        if 300 <= response.status < 400:
            where = self.scrub(response.headers.get("location", "elsewhere"))[:200]
            raise AuthError(
                f"HTTP {response.status}: the service redirects to {where}; redirects are not "
                "followed: check the provider's base_url"
            )
        error = error_for_status(
            response.status,
            response.detail(),
            write=response.write,
            retry_after=retry_after_of(response.headers),
            provider=self.provider,
        )
        if error is not None:
            raise error

    async def _read(self, answer: httpx.Response, *, write: bool) -> bytes:
        chunks: list[bytes] = []
        size = 0
        async for chunk in answer.aiter_bytes():
            size += len(chunk)
            if size > self.max_response_bytes:
                text = (
                    f"HTTP {answer.status_code}: the response is larger than "
                    f"{self.max_response_bytes} bytes; it was not read"
                )
                if write and answer.status_code < 300:
                    raise Ambiguous(text + "; the write may have been performed")
                raise Unavailable(text)
            chunks.append(chunk)
        return b"".join(chunks)

    def _transport_text(self, method: str, path: str, exc: BaseException) -> str:
        reason = str(exc) or type(exc).__name__
        return self.scrub(f"{method} {path.split('?')[0]}: {type(exc).__name__}: {reason}")[:300]

    async def aclose(self) -> None:
        """Close the connections (the provider's ``aclose()`` calls this)."""
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()


def _detail(content: bytes, scrub: Callable[[str], str]) -> str:
    text = content[:4096].decode("utf-8", errors="replace")
    try:
        body = jsonlib.loads(content) if len(content) <= 65_536 else None
    except (ValueError, RecursionError):
        body = None
    if isinstance(body, dict):
        for field in _DETAIL_FIELDS:
            value = body.get(field)
            # a flag such as {"error": true, "reason": "..."} is not the message
            if value and not isinstance(value, bool | int | float):
                text = value if isinstance(value, str) else jsonlib.dumps(value)[:300]
                break
    cleaned = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return scrub(cleaned)[:300]
