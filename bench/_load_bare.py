"""The yardstick for the load benchmark: a bare Flask app that answers a save at once."""

from flask import Flask, request

app = Flask(__name__)


@app.post("/save")
def save() -> tuple[str, int]:
    return f"Saved {len(request.form)}", 200
