"""Pricing rules and a calculator endpoint: evaluating expressions from users and from our own code."""

import ast
import operator

from flask import Flask, request

app = Flask(__name__)
DEFAULT_RULE = "price * 0.9 if quantity > 10 else price"
OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


@app.get("/calc")
def calc():
    return {"value": eval(request.args["expr"])}  # expect: code-injection


@app.get("/calc/literal")
def calc_literal():
    return {"value": ast.literal_eval(request.args["expr"])}  # ok: code-injection


@app.post("/rules")
def run_rule():
    scope = {"price": float(request.json["price"]), "quantity": int(request.json["quantity"])}
    exec(request.json["rule"], {}, scope)  # expect: code-injection
    return {"scope": scope}


def default_price(price: float, quantity: int) -> float:
    return eval(DEFAULT_RULE, {}, {"price": price, "quantity": quantity})  # ok: code-injection


def arithmetic(node: ast.AST) -> float:
    if isinstance(node, ast.BinOp) and type(node.op) in OPS:
        return OPS[type(node.op)](arithmetic(node.left), arithmetic(node.right))
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return node.value
    raise ValueError("only arithmetic is allowed")


@app.get("/calc/safe")
def calc_safe():
    return {"value": arithmetic(ast.parse(request.args["expr"], mode="eval").body)}  # ok: code-injection
