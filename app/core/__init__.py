"""The shared kernel: column types, errors, time helpers, access decorators."""
