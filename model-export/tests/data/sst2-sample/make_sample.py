"""Makes this folder's SST-2 sample from the shared GLUE SST-2 files (never committed wholesale).

    cd model-export && .venv/bin/python tests/data/sst2-sample/make_sample.py ../../shared/data/sst2

train.tsv: 200 rows of SST-2 ``train.tsv``; dev.tsv: 100 rows of ``glue-dev.tsv`` (the official GLUE
dev set). Rows are drawn with ``random.Random(13).sample`` and kept in file order, header kept, so a
re-run on the same files gives the same bytes. The sample exists so the export-and-reload tests run
on real text everywhere, CI included, without the shared data set.
"""
from __future__ import annotations

import random
import sys
from pathlib import Path

SEED = 13
SIZES = {"train.tsv": ("train.tsv", 200), "dev.tsv": ("glue-dev.tsv", 100)}


def main(sst2_dir: Path, out_dir: Path) -> None:
    for out_name, (src_name, n) in SIZES.items():
        header, *rows = (sst2_dir / src_name).read_text(encoding="utf-8").splitlines(keepends=True)
        keep = sorted(random.Random(SEED).sample(range(len(rows)), n))
        (out_dir / out_name).write_text(header + "".join(rows[i] for i in keep), encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(__file__).resolve().parent)
