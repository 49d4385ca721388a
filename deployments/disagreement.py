"""How the disagreement threads run for real: the deployments `mediation`, `appeal`, `complaint` and `dispute`,
no schedule; `ehc` (and the reconciler) start one run per thread of a case from them.

`python -m deployments.disagreement` serves the four (a long-lived process, like `flow.serve`); a suspended
thread's run occupies nothing while it waits."""

from __future__ import annotations

from prefect import serve

from flows.disagreement import FLOWS

DESCRIPTION = "One run per {thread} of a case, named `REF {thread} N`; suspended while it waits."


def deployments() -> list:
    return [f.to_deployment(name=f.name, tags=["ehc"], description=DESCRIPTION.format(thread=f.name)) for f in FLOWS]


if __name__ == "__main__":
    serve(*deployments())
