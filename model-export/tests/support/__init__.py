"""Test support code (fixture writers), importable as ``support`` because pytest puts ``tests/`` on
``sys.path`` (rootdir conftest, default import mode); the scripts under ``scripts/`` add that path
themselves. Not part of the installed ``deebert_export`` package."""
