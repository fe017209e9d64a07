"""Run in an environment where the core and the webhooks plugin are installed from wheels.

``nox -s installed_wheels`` builds the wheels, installs them into a fresh virtual environment
(no editable install) and runs this script, which fails unless:

- both distributions are imported from site-packages and neither is an editable install;
- ``aicmo-gateway plugins --json`` lists the plugin as active with its provider type;
- a chain through the plugin, built from a config mapping with plugins discovered from the
  installed entry points, delivers an event to a local receiver.

No network: the receiver listens on 127.0.0.1.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import distribution
from pathlib import Path

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
DISTRIBUTIONS = {
    "aicmo-gateway": "aicmo_gateway",
    "aicmo-gateway-webhooks": "aicmo_gateway_webhooks",
}


def check_installed_from_wheels() -> None:
    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    for name, module in DISTRIBUTIONS.items():
        imported = Path(__import__(module).__file__ or "").resolve()
        assert site in imported.parents, f"{module} is imported from {imported}, not {site}"
        direct = distribution(name).read_text("direct_url.json") or "{}"
        editable = json.loads(direct).get("dir_info", {}).get("editable", False)
        assert not editable, f"{name} is an editable install"


def check_plugins_json() -> None:
    command = shutil.which("aicmo-gateway", path=str(Path(sys.executable).parent))
    assert command, "the aicmo-gateway command is not installed"
    done = subprocess.run(
        [command, "plugins", "--json"], capture_output=True, text=True, check=True
    )
    plugins = {p["distribution"]: p for p in json.loads(done.stdout)["plugins"]}
    webhooks = plugins["aicmo-gateway-webhooks"]
    assert webhooks["status"] == "active", webhooks
    assert webhooks["provider_types"] == {"webhook_dispatch": ["webhook"]}, webhooks


class Receiver(BaseHTTPRequestHandler):
    bodies: list[bytes] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        Receiver.bodies.append(self.rfile.read(length))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def check_a_chain_through_the_plugin() -> None:
    from aicmo_gateway import Gateway
    from aicmo_gateway.ports import WebhookEvent

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    config = {
        "capabilities": {"webhook_dispatch": {"providers": ["hook"]}},
        "providers": {
            "hook": {"type": "webhook", "url": url, "secret": SECRET, "allow_private": True}
        },
    }
    try:
        with Gateway.from_config(config, env={}).sync() as gateway:
            outcome = gateway.webhook_dispatch.dispatch(
                WebhookEvent(type="lead.replied", data={"email": "ada@example.com"})
            )
    finally:
        server.shutdown()
    assert outcome.provider == "hook", outcome
    assert outcome.value.status_code == 200, outcome
    (body,) = Receiver.bodies
    assert json.loads(body)["type"] == "lead.replied"


if __name__ == "__main__":
    check_installed_from_wheels()
    check_plugins_json()
    check_a_chain_through_the_plugin()
    print("installed wheels: OK")
