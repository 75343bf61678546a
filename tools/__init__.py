"""Development tools: run from a checkout with the development dependencies, never shipped in the
production image (see .dockerignore)."""
