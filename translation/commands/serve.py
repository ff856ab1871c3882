"""`translation serve [PATHS...]`: a web page and HTTP API over trained models, on 127.0.0.1 by default."""
from __future__ import annotations

import ipaddress
import sys

from translation.commands.arguments import float_above, int_at_least
from translation.names import DEVICES

INSTALL = "translation serve needs the serve extra: pip install -e '.[serve]'"


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "serve", help="a web page and HTTP API over trained models (draw or drop an image, see it translated)",
        description="Serve every run folder under the folders given (found recursively: folders with a "
                    "latest.pt) and the checkpoint or .onnx files given, as a local web page and an HTTP API. "
                    "Opens nothing by itself: it prints the URL. Needs the serve extra (pip install -e '.[serve]').",
        epilog="examples:\n  translation serve demo_output/checkpoints\n"
               "  translation serve checkpoints/ G.onnx --port 8000\n"
               "  curl -s localhost:7860/api/models")
    p.add_argument("paths", nargs="*", default=["checkpoints"], metavar="PATH",
                   help="folders of runs and checkpoint/.onnx files (default: checkpoints)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default: 127.0.0.1, this machine only); another one warns "
                        "unless --token is set")
    p.add_argument("--port", type=int_at_least(0, 65535), default=7860, help="port (default: 7860; 0: a free one)")
    p.add_argument("--max-models", type=int_at_least(1), default=4, metavar="N",
                   help="models kept loaded, the least recently used dropped (default: 4)")
    p.add_argument("--workers", type=int_at_least(1), default=1, metavar="N",
                   help="inference threads (default: 1: torch already uses every core for one image)")
    p.add_argument("--queue", type=int_at_least(0), default=8, metavar="N",
                   help="requests that may wait for a worker; more are answered 503 (default: 8)")
    p.add_argument("--max-upload-mb", type=float_above(0), default=25, metavar="MB",
                   help="largest request body in MB, refused with 413 beyond (default: 25)")
    p.add_argument("--token", help="every API call must send `Authorization: Bearer TOKEN` (the page reads it "
                                   "from the URL printed, after #token=)")
    p.add_argument("--cors-origin", metavar="URL",
                   help="let pages from this origin call the API (default: no CORS, only the server's own page)")
    p.add_argument("--device", default="auto", choices=DEVICES,
                   help="where the models run (default: auto: a GPU if there is one)")
    p.set_defaults(func=run)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def url(host: str, port: int, token: str | None) -> str:
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}/" + (f"#token={token}" if token else "")


def run(args) -> int:
    try:
        import starlette  # noqa: F401
        import uvicorn
    except ImportError:
        print(INSTALL, file=sys.stderr)
        return 2
    import socket

    from translation.serve.app import create_app

    if not is_loopback(args.host) and not args.token:
        print(f"warning: --host {args.host} can be reached from other machines and there is no --token: anyone "
              "who reaches this port can run the models; add --token SECRET", file=sys.stderr)
    app = create_app(args.paths, max_models=args.max_models, workers=args.workers, queue=args.queue,
                     max_upload_mb=args.max_upload_mb, token=args.token, cors_origin=args.cors_origin,
                     device=args.device)
    family, kind, proto, _, address = socket.getaddrinfo(args.host.strip("[]"), args.port,
                                                         type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(address)  # bound here, so that --port 0 is a real port before the line below names it
    sock.listen(128)
    port = sock.getsockname()[1]
    count = len(app.state.server.catalog)
    if not count:
        print(f"note: no models under {', '.join(args.paths)}: a run folder holds a latest.pt (translation train, "
              "make demo); checkpoint and .onnx files can be named too", file=sys.stderr)
    print(f"serving {count} model{'s' if count != 1 else ''} at {url(args.host, port, args.token)}", flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    server.run(sockets=[sock])
    return 0
