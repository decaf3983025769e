"""Report query, before the change: the year is parsed as a number first."""

from fastapi import FastAPI
from sqlalchemy import text

from service.db import engine

app = FastAPI()


@app.get("/reports/{year}")
def yearly(year: str) -> list[dict]:
    number = int(year)
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT month, total FROM sales WHERE year = {number}"))  # ok: sql-injection
        return [dict(r._mapping) for r in rows]
