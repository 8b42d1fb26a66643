"""The report folder of a run, built from results.json and the rule catalogue alone.

One module per output file (``conformance_json``, ``html_page``, ``junit``, ``cucumber``,
``testreport``), all fed the same ``rows.Run``; ``writer.write_all`` redacts and writes
them together. What a status means and the shape of a row are the results contract's
(``canvas_conformance.results``).
"""
