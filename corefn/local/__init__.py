"""The local runtime behind ``corefn run``: every trigger of an app on one machine, with the
providers' semantics. ``runner`` wires ``store`` (durable SQLite deliveries), ``workers``,
``scheduler`` (timers), ``watcher`` (object and table change feeds) and ``server`` (HTTP);
``publisher`` is the ``local://`` sink backend. Nothing here is imported by ``import corefn``."""
