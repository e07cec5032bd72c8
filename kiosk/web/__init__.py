"""The web layer: the application factory, the declarations features make and the registry
built from them, services, security headers, the page cache, hand-offs, throttles, the
coordinator gate and audit trail, settings, the USB exchange, and the shared templates and
static files. May import ``kiosk.core``; never a feature (features come in as declarations).
"""
