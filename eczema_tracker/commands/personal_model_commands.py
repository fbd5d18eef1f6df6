"""``personal-model``: train a severity model on your own ratings, see how it does, use it or not.

``eczema-tracker personal-model status [--json]`` lists the personal models (newest first) with
their held-out agreement against the majority guess (always answering your most common rating)
and whether each is used. ``train [--dino SRC] [--epochs N]`` trains one on the store's rated
and analysed photos: it is used only when it beats the majority guess by the stated margin,
otherwise it is kept, off. ``use ID`` uses one anyway (your decision, recorded with it) and
``off`` stops using any severity model (the models are kept).

Exit codes: 0 done; 2 bad input (an unknown model id, not enough ratings) or a store problem.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from eczema_tracker.cli import CliError
from eczema_tracker.commands.common import (
    INPUT_ERROR_CODE,
    INTERRUPTED_CODE,
    open_store,
    print_help,
)

if TYPE_CHECKING:
    from eczema_tracker.app.personal_severity import ModelStanding
    from eczema_tracker.store import SeverityModelRecord


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add ``personal-model status|train|use|off``."""
    p = subparsers.add_parser(
        "personal-model",
        parents=[common],
        help="train a severity model on your own ratings; see how it does; use it or not",
        description="A personal severity model is used only when, checked on photos it did not "
        "learn from, it agrees with your ratings clearly more often than always answering your "
        "most common rating (by 10 percentage points and 2 photos). Otherwise it is kept, off; "
        "'use ID' uses it anyway.",
    )
    p.set_defaults(func=lambda _args: print_help(p))
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    status = actions.add_parser(
        "status", parents=[common], help="list your personal models and which is used"
    )
    status.add_argument("--json", action="store_true", help="one JSON object per model")
    status.set_defaults(func=run_status)
    train = actions.add_parser(
        "train", parents=[common], help="train one on your rated and analysed photos"
    )
    train.add_argument(
        "--dino",
        default=None,
        metavar="SRC",
        help="the DINO source the features came from (default: the app's setting)",
    )
    train.add_argument(
        "--epochs",
        type=int,
        default=None,
        metavar="N",
        help="training epochs (default: 50, more for few photos)",
    )
    train.set_defaults(func=run_train)
    use = actions.add_parser(
        "use", parents=[common], help="use a personal model anyway (your decision, recorded)"
    )
    use.add_argument("model_id", type=int, metavar="ID", help="the model's id (see status)")
    use.set_defaults(func=run_use)
    off = actions.add_parser("off", parents=[common], help="use no severity model (kept stored)")
    off.set_defaults(func=run_off)


def run_status(args: argparse.Namespace) -> int:
    """``eczema-tracker personal-model status [--json]``."""
    from eczema_tracker.app import personal_severity

    with open_store(args.data_dir, readonly=True) as store:
        records = [m for m in store.severity_models() if m.metadata.get("kind") == "personal"]
        if not args.json:
            print("Severity model in use: " + personal_severity.severity_model_line(store))
        for record in records:
            standing = personal_severity.model_standing(record)
            if args.json:
                print(json.dumps(_status_row(record, standing)))
            elif standing is not None:
                state = "used" if record.active else "off"
                print(f"model {record.id} ({record.created_at[:10]}, {state}): ", end="")
                print(standing.verdict_text().removeprefix("Your personal model "))
    return 0


def _status_row(record: SeverityModelRecord, standing: ModelStanding | None) -> dict[str, object]:
    """One model as JSON: its check against the majority guess and whether it is used."""
    row: dict[str, object] = {
        "id": record.id,
        "created_at": record.created_at,
        "active": record.active,
    }
    if standing is not None:
        row |= {
            "agreed": standing.agreed,
            "n": standing.n,
            "majority_agreed": standing.majority_agreed,
            "majority_rating": standing.majority_rating,
            "earned": standing.earned,
            "activated_by": standing.activated_by,
            "grades_shown": record.active and standing.trusted,
        }
    return row


def run_train(args: argparse.Namespace) -> int:
    """``eczema-tracker personal-model train [--dino SRC] [--epochs N]``."""
    from eczema_tracker.app import personal_severity
    from eczema_tracker.app.settings import Settings
    from eczema_tracker.commands.prompt_commands import stoppable

    if args.epochs is not None and args.epochs < 1:
        raise CliError("--epochs must be at least 1", INPUT_ERROR_CODE)
    dino = args.dino or Settings.load().dino_source
    with open_store(args.data_dir) as store:
        finished, result = stoppable(
            lambda ctrl_c, bar: personal_severity.train_personal_model(
                store, backbone_source=dino, epochs=args.epochs, progress=bar, cancel=ctrl_c.cancel
            ),
            stopped=lambda: "interrupted; no model was stored",
            counted=("cross-validation",),
        )
    if not finished or result is None:
        return INTERRUPTED_CODE
    standing = result.standing
    print(
        f"model {result.model_id}: {standing.verdict_text().removeprefix('Your personal model ')}"
    )
    if not result.active:
        print(
            f"To use it anyway: eczema-tracker personal-model use {result.model_id}",
            file=sys.stderr,
        )
    else:
        print(
            "Photos analysed before keep their old grades until re-scored in the app "
            "(Models ▸ Re-score analyses with the active model).",
            file=sys.stderr,
        )
    return 0


def run_use(args: argparse.Namespace) -> int:
    """``eczema-tracker personal-model use ID``."""
    from eczema_tracker.app import personal_severity

    with open_store(args.data_dir) as store:
        try:
            record = store.severity_model(args.model_id)
        except KeyError:
            raise CliError(
                f"no severity model {args.model_id} (see 'personal-model status')",
                INPUT_ERROR_CODE,
            ) from None
        if record.metadata.get("kind") != "personal":
            raise CliError(f"model {args.model_id} is not a personal model", INPUT_ERROR_CODE)
        personal_severity.use_personal_model(store, args.model_id)
        standing = personal_severity.model_standing(store.severity_model(args.model_id))
    text = standing.verdict_text() if standing else "used"
    print(f"model {args.model_id}: {text.removeprefix('Your personal model ')}")
    return 0


def run_off(args: argparse.Namespace) -> int:
    """``eczema-tracker personal-model off``."""
    from eczema_tracker.app import personal_severity

    with open_store(args.data_dir) as store:
        personal_severity.stop_using_severity_model(store)
    print("No severity model in use: no grades until you choose one (the models are kept).")
    return 0
