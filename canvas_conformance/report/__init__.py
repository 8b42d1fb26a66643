"""The report folder of a run, built from results.json and the rule catalogue alone.

One module per output file (``conformance_json``, ``html``, ``junit``, ``cucumber``,
``testreport``), all fed the same ``rows.Run``; ``writer.write_all`` redacts and writes
them together. ``progress`` is the live line a person watches while the suite runs.
"""
