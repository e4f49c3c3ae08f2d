"""Code shared by every KOMPOR DESA service: config, storage, events, errors, auth."""
