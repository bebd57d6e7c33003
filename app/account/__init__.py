"""The account page: two-step sign-in."""
