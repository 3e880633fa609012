"""The web layer: the only package that imports the web framework (an import-linter contract says so).

``create_app(platform)`` in ``app.py`` builds the app. Routes are thin: they parse the request, call
the domain (``Platform``, area services, the match index) and shape the answer; they raise domain
errors (``suraksha.errors``), which ``problems.py`` turns into HTTP in one place.
"""
