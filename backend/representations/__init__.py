"""Dataset representations (feature vectors): `label-text` (offline, default) and `clip`."""
