# Shortcuts for the commands the README names.
.PHONY: run test lint bench
run:
	./bin/run
test:
	./bin/test
lint:
	.venv/bin/ruff check .
bench:
	.venv/bin/python bench/ingest.py
