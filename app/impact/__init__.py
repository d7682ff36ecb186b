"""Impact: read-only analytics over every domain (reach, delivery, effectiveness, travel
CO2e, the train-the-trainer multiplier), drawn as SVG and exported as CSV, XLSX and PDF."""
