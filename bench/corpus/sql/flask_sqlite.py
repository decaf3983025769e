"""Inventory API on Flask + sqlite3: search, sorting, paging, bulk lookups."""

import sqlite3

from flask import Flask, abort, g, jsonify, request

app = Flask(__name__)
SORTABLE = {"name", "price", "created_at"}
TABLE = "items"


def db() -> sqlite3.Connection:
    if "db" not in g:
        g.db = sqlite3.connect("/srv/data/inventory.db")
    return g.db


@app.get("/items/by-owner")
def items_by_owner():
    owner = request.args["owner"]
    rows = db().execute("SELECT id, name FROM items WHERE owner = '%s'" % owner).fetchall()  # expect: sql-injection
    return jsonify(rows)


@app.get("/items/by-owner/safe")
def items_by_owner_safe():
    owner = request.args["owner"]
    rows = db().execute("SELECT id, name FROM items WHERE owner = ?", (owner,)).fetchall()  # ok: sql-injection
    return jsonify(rows)


@app.get("/items/search")
def search():
    term = request.args.get("q", "")
    query = f"SELECT id, name FROM items WHERE name LIKE '%{term}%'"  # near: sql-injection
    rows = db().execute(query).fetchall()  # expect: sql-injection
    return jsonify(rows)


@app.get("/items/search/safe")
def search_safe():
    term = request.args.get("q", "")
    rows = db().execute("SELECT id, name FROM items WHERE name LIKE ?", (f"%{term}%",)).fetchall()  # ok: sql-injection
    return jsonify(rows)


@app.get("/items/<item_id>")
def get_item(item_id):
    sql = "SELECT * FROM items WHERE id = " + item_id  # near: sql-injection
    row = db().execute(sql).fetchone()  # expect: sql-injection
    return jsonify(row) if row else abort(404)


@app.get("/items/sorted")
def sorted_items():
    column = request.args.get("sort", "name")
    if column not in SORTABLE:
        abort(400)
    rows = db().execute(f"SELECT id, name FROM items ORDER BY {column}").fetchall()  # ok: sql-injection
    return jsonify(rows)


@app.get("/items/sorted-any")
def sorted_any():
    column = request.args.get("sort", "name")
    rows = db().execute("SELECT id, name FROM items ORDER BY {}".format(column)).fetchall()  # expect: sql-injection
    return jsonify(rows)


@app.get("/items/page")
def page():
    limit = int(request.args.get("limit", "20"))
    offset = int(request.args.get("offset", "0"))
    rows = db().execute(f"SELECT id, name FROM items LIMIT {limit} OFFSET {offset}").fetchall()  # ok: sql-injection
    return jsonify(rows)


@app.post("/items/lookup")
def bulk_lookup():
    ids = [int(i) for i in request.json["ids"]]
    marks = ",".join("?" * len(ids))
    rows = db().execute(f"SELECT id, name FROM items WHERE id IN ({marks})", ids).fetchall()  # ok: sql-injection
    return jsonify(rows)


@app.get("/items/count")
def count():
    (total,) = db().execute(f"SELECT count(*) FROM {TABLE}").fetchone()  # ok: sql-injection
    return jsonify(total=total)


@app.post("/admin/migrate")
def migrate():
    db().executescript(request.get_data(as_text=True))  # expect: sql-injection
    return jsonify(ok=True)


@app.delete("/items/by-tag")
def delete_by_tag():
    tag = request.args["tag"]
    cur = db().cursor()
    cur.execute("DELETE FROM items WHERE tag = '" + tag + "'")  # expect: sql-injection
    db().commit()
    return jsonify(deleted=cur.rowcount)


@app.delete("/archive/by-tag")
def archive_by_tag():
    tag = request.args["tag"]
    cur = db().cursor()
    cur.execute("DELETE FROM items WHERE tag = '" + tag + "'")  # expect: sql-injection
    db().commit()
    return jsonify(deleted=cur.rowcount)
