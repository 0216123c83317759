"""The foundation's end-to-end path against the real container: a loopback feed server and
webhook receiver on the host, the image run with `--network host` on SQLite, everything
set up over the API, one signed `hit.created` verified with standardwebhooks, then a
graceful stop. Run by tests/container/run.sh (`make container-test`)."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import httpx
from standardwebhooks import Webhook

from tests.support.feeds import BYTEDANCE_HUAWEI, rss
from tests.support.servers import FeedServer, WebhookReceiver
from tests.support.service import FAST_SETTINGS, free_port, wait_until

ADMIN = "nw_container_admin_token_0123456789"


def podman(*args: str, check: bool = True) -> str:
    done = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=120)
    if check and done.returncode != 0:
        raise RuntimeError(f"podman {' '.join(args)} failed: {done.stderr}")
    return done.stdout.strip()


def step(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def run(image: str) -> None:
    port = free_port()
    name = f"newswatch-e2e-{port}"
    env = {
        **FAST_SETTINGS,
        "NEWSWATCH_PORT": str(port),
        "NEWSWATCH_ADMIN_TOKEN": ADMIN,
        "NEWSWATCH_ALLOW_PRIVATE_NETWORKS": "true",
        "NEWSWATCH_SHUTDOWN_GRACE_SECONDS": "10",
    }
    env_args = [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]
    with FeedServer() as feeds, WebhookReceiver() as receiver:
        feed_url = feeds.set_feed("/berita.xml", rss([BYTEDANCE_HUAWEI]))
        podman("run", "-d", "--name", name, "--network", "host", *env_args, image)
        step(f"container {name} started on port {port} (SQLite inside, /data volume)")
        try:
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base, timeout=5) as anon:

                def healthy() -> bool:
                    try:
                        return anon.get("/healthz").status_code == 200
                    except httpx.HTTPError:
                        return False

                wait_until(healthy, 60, interval=0.5, message="/healthz")
                step(f"GET /healthz -> 200 {anon.get('/healthz').json()}")
                step(f"GET /readyz -> {anon.get('/readyz').status_code}")
            podman("healthcheck", "run", name)
            step("podman healthcheck run (the image's HEALTHCHECK) -> healthy")
            step(
                f"runs as uid:gid {podman('exec', name, 'id', '-u')}:{podman('exec', name, 'id', '-g')}"
            )

            with httpx.Client(
                base_url=base, timeout=10, headers={"Authorization": f"Bearer {ADMIN}"}
            ) as admin:
                user = admin.post("/v1/users", json={"name": "jurnalis"}).json()
            with httpx.Client(
                base_url=base, timeout=10, headers={"Authorization": f"Bearer {user['token']}"}
            ) as api:
                rule = api.post(
                    "/v1/rules", json={"name": "bd-hw", "query": "ByteDance AND Huawei"}
                )
                assert rule.status_code == 201, rule.text
                hook = api.post("/v1/webhooks", json={"url": receiver.url("/hook")})
                assert hook.status_code == 201, hook.text
                feed = api.post("/v1/feeds", json={"url": feed_url})
                assert feed.status_code == 201, feed.text
                step("user, rule `ByteDance AND Huawei`, webhook and feed created over the API")

                wait_until(lambda: receiver.deliveries, 30, message="the webhook delivery")
                delivery = receiver.deliveries[0]
                payload = Webhook(hook.json()["secret"]).verify(delivery.body, delivery.headers)
                assert payload["type"] == "hit.created"
                assert payload["data"]["rule"]["id"] == rule.json()["id"]
                step(
                    f"received {payload['type']} webhook-id={delivery.headers['webhook-id']}, "
                    f"signature verified; matched_terms={payload['data']['matched_terms']}"
                )
                hits = api.get("/v1/hits").json()["items"]
                assert len(hits) == 1 and hits[0]["id"] == payload["data"]["hit_id"]
                step(f"GET /v1/hits -> 1 hit: {hits[0]['article']['title']!r}")

            started = time.monotonic()
            podman("stop", "--time", "30", name)
            code = podman("inspect", name, "--format", "{{.State.ExitCode}}")
            step(
                f"podman stop (SIGTERM) -> exit code {code} after {time.monotonic() - started:.1f} s"
            )
            assert code == "0", code
        except BaseException:
            logs = subprocess.run(["podman", "logs", name], capture_output=True, text=True)
            print((logs.stdout + logs.stderr)[-5000:], file=sys.stderr)
            raise
        finally:
            podman("rm", "-f", name, check=False)
    step("container end-to-end: OK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--image", default="localhost/newswatch:latest")
    run(parser.parse_args().image)


if __name__ == "__main__":
    main()
