"""`zkpor serve`: a round's public folder over HTTP, for opening report.html and verify.html locally.

Thin: the server is `zkpor.site.serve`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zkpor.cli.app_state import app, console, error_console
from zkpor.site.serve import DEFAULT_HOST, DEFAULT_PORT, is_loopback, make_server, public_folder


@app.command()
def serve(
    round_dir: Annotated[
        Path, typer.Argument(help="Round directory (its public/ folder is served), or a public folder.")
    ],
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on. The default is this computer only.")
    ] = DEFAULT_HOST,
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port; 0 picks a free one.")
    ] = DEFAULT_PORT,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Do not log each request.")] = False,
) -> None:
    """Serve a round's public folder (report, verify.html, proofs) over HTTP until Ctrl-C.

    Only ROUND_DIR/public is served; a folder with the round's private files in it is refused.

    verify.html works as well opened straight from the disk: this is for sharing the folder as a web site.

    Example: zkpor serve ./round-2024-06 --port 8000
    """
    folder = public_folder(round_dir)
    log = None if quiet else (lambda line: error_console.print(line, markup=False, highlight=False))
    server = make_server(folder, host, port, log=log)
    bound_host, bound_port = server.server_address[:2]
    shown_host = f"[{bound_host}]" if ":" in str(bound_host) else bound_host
    console.print(f"Serving {folder} at http://{shown_host}:{bound_port}/", markup=False, highlight=False)
    for page in ("verify.html", "report.html"):
        if (folder / page).is_file():
            console.print(f"  http://{shown_host}:{bound_port}/{page}", markup=False, highlight=False)
    if not is_loopback(host):
        console.print(f"Note: listening on {host}, so other computers can reach it.", highlight=False)
    console.print("Press Ctrl-C to stop.", highlight=False)
    console.file.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        console.print("Stopped.")
    finally:
        server.server_close()
