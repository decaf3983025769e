"""Report query, after the change: years like "2024-Q1" are accepted, so the int() went away."""

from fastapi import FastAPI
from sqlalchemy import text

from service.db import engine

app = FastAPI()


@app.get("/reports/{year}")
def yearly(year: str) -> list[dict]:
    number = year.strip()
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT month, total FROM sales WHERE year = '{number}'"))  # expect: sql-injection
        return [dict(r._mapping) for r in rows]
