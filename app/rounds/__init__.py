"""rounds pages."""
