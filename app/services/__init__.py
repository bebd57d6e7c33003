"""Services load ORM rows, call `delphi` and `scoring` with plain data, and store results."""
