"""The shipped deployment files say what docs/deploying.md promises: the balancer
forwards the headers Django needs and hides /metrics, instances bind a private
address, and nginx accepts the file as it is. (`make test-deploy` runs them for real.)"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BALANCER = ROOT / "deploy" / "nginx" / "balancer.conf"
UNIT = ROOT / "deploy" / "systemd" / "tutorial@.service"


def directives(text: str) -> list[str]:
    return [
        " ".join(line.split("#", 1)[0].split())
        for line in text.splitlines()
        if line.split("#", 1)[0].strip()
    ]


def test_the_balancer_forwards_what_django_needs():
    lines = directives(BALANCER.read_text())
    assert "proxy_set_header Host $http_host;" in lines  # $host drops the port: CSRF 403
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in lines
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in lines
    assert "proxy_set_header X-Request-ID $balancer_request_id;" in lines
    assert not any(line.startswith("proxy_set_header Host $host") for line in lines)


def test_the_balancer_hides_metrics_and_uses_private_instances():
    text = BALANCER.read_text()
    assert re.search(r"location = /metrics \{\s*return 404;\s*\}", text)
    servers = re.findall(r"^\s*server (\d\S*)", text, flags=re.MULTILINE)
    assert len(servers) >= 2
    assert all(server.startswith("127.0.0.1:") for server in servers)


def test_the_balancers_request_id_map_accepts_only_what_the_site_accepts():
    from tutorials.requestlog import VALID_ID

    pattern = re.search(r'"~\^(.+)\$" \$http_x_request_id;', BALANCER.read_text()).group(1)
    assert pattern == VALID_ID.pattern


def test_each_instance_binds_a_private_address():
    text = UNIT.read_text()
    assert "Environment=GUNICORN_BIND=127.0.0.1:%i" in text
    assert "EnvironmentFile=/etc/tutorial/site.env" in text
    assert "PROMETHEUS_MULTIPROC_DIR=/run/tutorial-%i/prometheus" in text


def test_the_environment_file_is_never_committed():
    ignored = (ROOT / ".gitignore").read_text().split()
    assert "site.env" in ignored
    result = subprocess.run(
        ["git", "check-ignore", "site.env", "deploy/site.env"], cwd=ROOT, capture_output=True
    )
    assert result.returncode == 0


# nginx is one of the Debian packages `make test` installs (TEST_DEBS).
def test_nginx_accepts_the_balancer_file(tmp_path):
    conf = tmp_path / "nginx.conf"
    balancer = BALANCER.read_text().replace(
        "/var/log/nginx/tutorial.access.log", str(tmp_path / "access.log")
    )
    (tmp_path / "balancer.conf").write_text(balancer)
    conf.write_text(
        f"pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log;\n"
        "events {}\n"
        f"http {{ include {tmp_path}/balancer.conf; }}\n"
    )
    result = subprocess.run(
        ["nginx", "-t", "-p", str(tmp_path), "-c", str(conf)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
