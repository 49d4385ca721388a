"""`ehc serve`: what a council of a few hundred plans needs, on one machine, in one command (`deployments.site`):
a Prefect server with its UI and one runner serving every deployment with its schedule. Ctrl-C stops both."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from cli.common import console, input_errors
from models.errors import InputError


@input_errors
def serve(host: str = typer.Option("127.0.0.1", help="address the server listens on (the UI and the API)"),
          port: int = typer.Option(4200, min=1, max=65535, help="its port"),
          folder: Path = typer.Option(Path(".ehc-site"), "--dir",
                                      help="where the server keeps its SQLite database and log (unless "
                                           "EHC_PREFECT_DATABASE_URL names another)")) -> None:
    """Start a Prefect server with its UI and one runner serving every deployment (the needs assessment, the
    deadline watch weekdays 07:00, the review scheduler daily 06:30, and the rest), until Ctrl-C."""
    from deployments import site

    if folder.exists() and not folder.is_dir():
        raise InputError("--dir", f"{folder} is a file, not a folder")
    found = site.served()
    with site.prefect_server(folder, host, port) as api:
        ui = api.removesuffix("/api")
        console.print(f"[bold]EHC site[/bold]: Prefect UI {ui}  (API {api}); its database "
                      f"{site.shown(site.database_url(folder))}, its log {folder / 'server.log'}", highlight=False)
        if os.environ.get(site.AUTH_SERVER):
            console.print(f"API authentication on ({site.AUTH_SERVER}): the UI asks for it; `ehc` in another "
                          f"shell needs {site.AUTH_CLIENT} set to the same user:password", highlight=False)
        else:
            console.print(f"API authentication OFF: anyone who can reach {host}:{port} can read and change runs. "
                          f"Set {site.AUTH_SERVER}=user:password before `ehc serve` (and {site.AUTH_CLIENT} for "
                          "`ehc` in another shell) unless only this machine can reach it.", highlight=False)
        console.print(f"In another shell: export PREFECT_API_URL={api}", highlight=False)
        for d in found:
            when = ", ".join(f"{s.schedule.cron} {s.schedule.timezone}" for s in d.schedules) or "started per case"
            console.print(f"  serving {d.name}: {when}", highlight=False)
        console.print("Ctrl-C stops the runner, then the server.")
        try:
            site.serve(api, found)
        except KeyboardInterrupt:  # Ctrl-C while the runner was still registering its deployments
            pass
    console.print("stopped")
