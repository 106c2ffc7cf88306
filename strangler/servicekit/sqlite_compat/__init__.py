"""SQLite for Django 4.2 and 5.0 with the two options Django 5.1 added.

Django 5.1 taught its SQLite backend ``OPTIONS["transaction_mode"]`` (``BEGIN IMMEDIATE``) and
``OPTIONS["init_command"]`` (the WAL pragmas); :func:`strangler.servicekit.db.database_from_url`
relies on both. On older Django this backend (``ENGINE`` ``strangler.servicekit.sqlite_compat``)
takes the same two options and does what 5.1 does; on 5.1 and newer the stock backend is used.
"""
