"""A project without DRF that installs ``strangler.contrib.identity`` (make test-strangler)."""
