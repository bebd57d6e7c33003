"""Your account: which emails you get, and the one-click unsubscribe links in them."""
