"""Splash ML, the label store: data sets, label classes, tagging events, tags, exports."""
