"""Finding client records by what people type: names, emails, phones, company names."""
