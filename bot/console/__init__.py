"""The staff console: a Sanic web application with Jinja2 templates for the firm's staff."""
