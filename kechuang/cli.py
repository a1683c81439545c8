"""The `kechuang` command: `kechuang demo`, `kechuang user create`, `kechuang orgunits load`,
`kechuang serve`, and every Django management command (`kechuang migrate` …).

It only sets the settings module and dispatches; each command is a thin
management command in its app that calls that app's services.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kechuang.settings")
    if argv[:1] == ["serve"]:
        serve(argv[1:])
        return
    # A command run by the operator signs nothing a browser will hold (no sessions, no
    # cookies): a key for this process alone lets `kechuang index build`, `plan extract`
    # and the rest work on a fresh checkout. `serve` still requires the real one.
    os.environ.setdefault("KECHUANG_SECRET_KEY", secrets.token_urlsafe(50))
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        import django

        django.setup()
    except ImproperlyConfigured as error:
        sys.exit(f"kechuang: 配置不完整：{error}")
    execute_from_command_line(["kechuang", *argv])


def serve(argv: list[str]) -> None:
    """Serve the application with gunicorn (static files through WhiteNoise)."""
    parser = argparse.ArgumentParser(prog="kechuang serve", description="启动网站服务")
    parser.add_argument("--host", default=os.environ.get("KECHUANG_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("KECHUANG_PORT", "8000")))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("KECHUANG_WORKERS", "2")))
    args = parser.parse_args(argv)
    from gunicorn.app.wsgiapp import run

    print(f"科创平台： http://{args.host}:{args.port}/  （Ctrl+C 停止）", flush=True)
    sys.argv = [
        "gunicorn",
        "kechuang.wsgi:application",
        "--bind",
        f"{args.host}:{args.port}",
        "--workers",
        str(args.workers),
        "--access-logfile",
        "-",
        "--timeout",
        "120",
        # gunicorn 27's control socket would live in $HOME; nothing here uses it.
        "--no-control-socket",
    ]
    run()


if __name__ == "__main__":
    main()
