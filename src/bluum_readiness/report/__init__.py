"""The readiness report: readiness.json read back, verified and rendered for people and tools.

``render.render_all(report, out_dir, company)`` writes readiness.html, readiness.pdf, readiness.md, junit.xml,
allure-results/ and (when the ``[company]`` details are complete) email.eml and email.txt, all from the JSON
document ``bluum-readiness run`` wrote (``model.load_report``), so ``bluum-readiness report`` re-renders the
same files. ``digest`` is the SHA-256 over the report that ``bluum-readiness report --verify`` recomputes.
``phases`` and ``provenance`` give every output the checklist's two phases, where each check was proven and whether
the email may be sent; ``combine`` merges runs of one integration (``bluum-readiness report --combine``).
This package imports only the standard library at import time; the renderers pull in jinja2 and fpdf2.
See docs/reports.md.
"""
