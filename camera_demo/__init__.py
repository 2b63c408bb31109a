"""The camera application on top of runtime/: live predictions, overlay, headless mode, recording."""
