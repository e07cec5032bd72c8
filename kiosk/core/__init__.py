"""The core: durable storage (``store``, the only importer of TinyDB), the guarded clock, ids
and ticket codes, text and form fields, one set of errors, times and the small-cell rule.

May import only the standard library and its own libraries: never ``kiosk.web`` nor a feature.
"""
