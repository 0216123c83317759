from newswatch.cli import app

app()
