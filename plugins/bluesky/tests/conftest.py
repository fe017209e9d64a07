"""A contract fake of a Bluesky PDS on a real local HTTP server (pytest-httpserver).

Written from the atproto lexicons (github.com/bluesky-social/atproto ``lexicons/``, read at
commit d6296a1 of 2026-08) and the reference PDS (``packages/pds``):

- ``com.atproto.server.createSession`` (``identifier``, ``password`` -> ``accessJwt``,
  ``refreshJwt``, ``handle``, ``did``; 401 ``AuthenticationRequired`` "Invalid identifier or
  password"); ``refreshSession`` (the refresh JWT as bearer -> a new pair; 400
  ``ExpiredToken``); ``getSession``; an expired access JWT is 400 ``ExpiredToken`` "Token has
  expired" (``auth-verifier.ts``)
- ``com.atproto.repo.createRecord``: the record key is checked against the collection's key
  type (``app.bsky.feed.post`` has ``"key": "tid"``: 400 ``InvalidRequest`` "Invalid record
  key"); a key that already holds a record fails in the MST ("There is already a value at key")
  and the PDS answers 500 ``InternalServerError``; the record is validated against its lexicon
  (``text``: 300 graphemes, 3000 bytes)
- ``com.atproto.repo.getRecord`` (400 ``RecordNotFound``), ``uploadBlob`` (the raw body with
  its Content-Type -> ``blob``; 400 ``BlobTooLarge`` over the limit),
  ``com.atproto.identity.resolveHandle`` (400 ``HandleNotFound`` / "Unable to resolve handle")
- docs.bsky.app advanced-guides/rate-limits: ``ratelimit-limit``, ``ratelimit-remaining``,
  ``ratelimit-reset`` (Unix seconds), ``ratelimit-policy``; 429 ``RateLimitExceeded``
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import uuid
from typing import Any, ClassVar

import attrs
import pytest
import regex
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

pytest_plugins = ["aicmo_gateway.testing.pytest_plugin"]

TID = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
POST = "app.bsky.feed.post"


@attrs.define
class Canned:
    status: int
    body: Any
    headers: dict[str, str] = attrs.Factory(dict)
    delay: float = 0.0
    #: handle the request normally first, then answer with this
    process: bool = False


#: the calls that perform an operation (a post, a check): where fail_next strikes
_OPERATIONS = ("com.atproto.repo.createRecord", "com.atproto.server.getSession")


class FakePDS:
    """A PDS with one account, as documented."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        suffix = uuid.uuid4().hex[:10]
        self.handle = f"sales-{suffix}.bsky.social"
        self.password = f"app-pw-{suffix}-s3cret"
        self.did = f"did:plc:{suffix}sales"
        #: other accounts' handles -> DIDs, for mentions
        self.handles = {"alice.bsky.social": "did:plc:alice", "日本.example.com": "did:plc:jp"}
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.records: dict[str, dict[str, Any]] = {}  # rkey -> {"uri", "cid", "value"}
        self.others: dict[tuple[str, str], dict[str, Any]] = {}  # (repo, rkey) of other repos
        self.blobs: dict[str, tuple[str, bytes]] = {}
        self.logins = 0
        self.refreshes = 0
        self.max_blob = 2_000_000
        self.remaining = 2999
        self._access: dict[str, str] = {}  # token -> "valid" / "expired"
        self._refresh: dict[str, str] = {}
        self._canned: dict[str, list[Canned]] = {}
        self._scripted: list[Canned] = []
        self._lock = threading.Lock()
        server.expect_request(re.compile(r"^/xrpc/[\w.]+$")).respond_with_handler(self._handle)

    @property
    def url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    def answer_next(self, nsid: str, status: int, body: Any, **options: Any) -> None:
        self._canned.setdefault(nsid, []).append(Canned(status, body, **options))

    #: what ``fail_next`` answers (the conformance suite's failure kinds; no quota on a PDS)
    FAILURES: ClassVar[dict[str, Canned]] = {
        "bad_credentials": Canned(
            401, {"error": "AuthenticationRequired", "message": "Invalid identifier or password"}
        ),
        "rate_limited": Canned(429, {"error": "RateLimitExceeded", "message": "Rate Limit"}),
        "invalid_input": Canned(400, {"error": "InvalidRequest", "message": "Invalid record"}),
        "service_down": Canned(503, {"error": "NotEnoughResources", "message": "Try later"}),
        "unknown_outcome": Canned(200, {}, delay=3.0),  # past a 1 s timeout
    }

    def fail_next(self, kind: str) -> None:
        """Fail the next operation as ``kind`` (the conformance suite): refused credentials at
        the next login, the others at the next post (createRecord) or check (getSession)."""
        if kind not in self.FAILURES:
            raise NotImplementedError(kind)
        canned = attrs.evolve(self.FAILURES[kind], headers={})
        if kind == "bad_credentials":
            self.answer_next("com.atproto.server.createSession", canned.status, canned.body)
        else:
            self._scripted.append(canned)

    def calls(self, nsid: str) -> int:
        return sum(1 for _, path, _, _ in self.requests if path == f"/xrpc/{nsid}")

    def expire_access(self) -> None:
        """Every access JWT issued so far expires (as after two hours)."""
        with self._lock:
            self._access = dict.fromkeys(self._access, "expired")

    def expire_refresh(self) -> None:
        with self._lock:
            self._refresh = dict.fromkeys(self._refresh, "expired")

    # -- plumbing --------------------------------------------------------------------------

    def _reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
        base = {
            "ratelimit-limit": "3000",
            "ratelimit-remaining": str(self.remaining),
            "ratelimit-reset": str(int(time.time()) + 300),
            "ratelimit-policy": "3000;w=300",
        }
        text = body if isinstance(body, str) else json.dumps(body)
        return Response(
            text,
            status=status,
            headers={**base, **(headers or {})},
            content_type="application/json",
        )

    def _error(self, status: int, name: str, message: str) -> Response:
        return self._reply(status, {"error": name, "message": message})

    def _handle(self, request: Request) -> Response:
        nsid = request.path.removeprefix("/xrpc/")
        self.requests.append(
            (request.method, request.path, dict(request.headers), request.get_data())
        )
        queue = self._canned.get(nsid)
        canned = queue.pop(0) if queue else None
        if canned is None and self._scripted and nsid in _OPERATIONS:
            canned = self._scripted.pop(0)
        if canned is not None and not canned.process:
            time.sleep(canned.delay)
            return self._reply(canned.status, canned.body, canned.headers)
        handler = getattr(self, "_" + nsid.replace(".", "_"), None)
        if handler is None:
            return self._error(501, "MethodNotImplemented", "Method Not Implemented")
        answer = handler(request)
        if canned is not None and canned.body is None:  # the real answer, with these headers
            answer.headers.update(canned.headers)
            return answer
        if canned is not None:
            time.sleep(canned.delay)
            return self._reply(canned.status, canned.body, canned.headers)
        return answer

    def _issue(self) -> dict[str, Any]:
        access, refresh = f"eyJ.access.{uuid.uuid4().hex}", f"eyJ.refresh.{uuid.uuid4().hex}"
        self._access[access] = "valid"
        self._refresh[refresh] = "valid"
        return {"accessJwt": access, "refreshJwt": refresh, "handle": self.handle, "did": self.did}

    def _authed(self, request: Request) -> Response | None:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        state = self._access.get(token)
        if state == "expired":
            return self._error(400, "ExpiredToken", "Token has expired")
        if state is None:
            return self._error(401, "AuthenticationRequired", "Authentication Required")
        return None

    # -- com.atproto.server ----------------------------------------------------------------

    def _com_atproto_server_createSession(self, request: Request) -> Response:
        body = json.loads(request.get_data() or b"{}")
        if body.get("identifier") not in (self.handle, self.did) or (
            body.get("password") != self.password
        ):
            return self._error(401, "AuthenticationRequired", "Invalid identifier or password")
        with self._lock:
            self.logins += 1
            return self._reply(200, self._issue())

    def _com_atproto_server_refreshSession(self, request: Request) -> Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        with self._lock:
            state = self._refresh.get(token)
            if state == "expired":
                return self._error(400, "ExpiredToken", "Token has expired")
            if state is None:
                return self._error(400, "InvalidToken", "Token could not be verified")
            self.refreshes += 1
            self._refresh[token] = "used"
            return self._reply(200, self._issue())

    def _com_atproto_server_getSession(self, request: Request) -> Response:
        return self._authed(request) or self._reply(200, {"handle": self.handle, "did": self.did})

    # -- com.atproto.identity / repo -------------------------------------------------------

    def _com_atproto_identity_resolveHandle(self, request: Request) -> Response:
        did = self.handles.get(request.args.get("handle", "").lower())
        if did is None:
            return self._error(400, "HandleNotFound", "Unable to resolve handle")
        return self._reply(200, {"did": did})

    def _com_atproto_repo_uploadBlob(self, request: Request) -> Response:
        refused = self._authed(request)
        if refused:
            return refused
        data = request.get_data()
        if len(data) > self.max_blob:
            return self._error(400, "BlobTooLarge", "This file is too large")
        cid = "bafkrei" + hashlib.sha256(data).hexdigest()[:40]
        self.blobs[cid] = (request.content_type or "", data)
        blob = {
            "$type": "blob",
            "ref": {"$link": cid},
            "mimeType": request.content_type,
            "size": len(data),
        }
        return self._reply(200, {"blob": blob})

    def _com_atproto_repo_getRecord(self, request: Request) -> Response:
        repo, rkey = request.args.get("repo"), request.args.get("rkey", "")
        if repo in (self.did, self.handle) and request.args.get("collection") == POST:
            found = self.records.get(rkey)
        else:
            found = self.others.get((repo or "", rkey))
        if found is None:
            return self._error(400, "RecordNotFound", f"Could not locate record: {rkey}")
        return self._reply(200, found)

    def _com_atproto_repo_createRecord(self, request: Request) -> Response:
        refused = self._authed(request)
        if refused:
            return refused
        body = json.loads(request.get_data() or b"{}")
        if body.get("repo") != self.did:
            return self._error(401, "AuthenticationRequired", "Authentication Required")
        record, rkey = body.get("record") or {}, body.get("rkey") or uuid.uuid4().hex[:13]
        if not TID.match(rkey):
            return self._error(400, "InvalidRequest", f"Invalid record key for {POST}: Invalid TID")
        problem = _invalid_post(record, self.blobs)
        if problem:
            return self._error(400, "InvalidRequest", f"Invalid {POST} record: {problem}")
        with self._lock:
            if rkey in self.records:  # the MST refuses a second value at the key
                return self._error(500, "InternalServerError", "Internal Server Error")
            uri = f"at://{self.did}/{POST}/{rkey}"
            cid = "bafyrei" + hashlib.sha256(json.dumps(record).encode()).hexdigest()[:40]
            self.records[rkey] = {"uri": uri, "cid": cid, "value": record}
        return self._reply(200, {"uri": uri, "cid": cid, "validationStatus": "valid"})


def _invalid_post(record: dict[str, Any], blobs: dict[str, Any]) -> str | None:
    text = record.get("text")
    if record.get("$type") != POST or not isinstance(text, str) or "createdAt" not in record:
        return "must have $type, text and createdAt"
    if len(regex.findall(r"\X", text)) > 300 or len(text.encode()) > 3000:
        return "record/text must not be longer than 300 graphemes"
    size = len(text.encode())
    for facet in record.get("facets", []):
        index = facet["index"]
        if not 0 <= index["byteStart"] < index["byteEnd"] <= size:
            return "facet out of range"
    for image in (record.get("embed") or {}).get("images", []):
        if "alt" not in image or image["image"]["ref"]["$link"] not in blobs:
            return "image must have alt and an uploaded blob"
    return None


@pytest.fixture
def pds(threaded_httpserver: HTTPServer) -> FakePDS:
    return FakePDS(threaded_httpserver)


@pytest.fixture
def settings(pds: FakePDS) -> dict[str, Any]:
    """Config keys for a poster talking to the fake, as a config file would give them."""
    return {
        "service": pds.url,
        "identifier": pds.handle,
        "app_password": pds.password,
        "timeout": 5.0,
    }
