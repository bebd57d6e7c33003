"""The yardstick for the discussion benchmark: a bare Flask app with one empty endpoint."""

from flask import Flask

app = Flask(__name__)


@app.get("/poll")
def poll() -> tuple[str, int]:
    return "", 204
