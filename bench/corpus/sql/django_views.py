"""Django reporting views: raw queries, extra(), RawSQL and cursor use."""

from django.db import connection
from django.db.models.expressions import RawSQL
from django.http import HttpRequest, JsonResponse

from shop.models import Article, Customer


def customer_by_name(request: HttpRequest) -> JsonResponse:
    username = request.GET["username"]
    people = Customer.objects.raw(f"SELECT * FROM shop_customer WHERE username = '{username}'")  # expect: sql-injection
    return JsonResponse({"ids": [p.id for p in people]})


def customer_by_name_safe(request: HttpRequest) -> JsonResponse:
    username = request.GET["username"]
    people = Customer.objects.raw("SELECT * FROM shop_customer WHERE username = %s", [username])  # ok: sql-injection
    return JsonResponse({"ids": [p.id for p in people]})


def article_search(request: HttpRequest) -> JsonResponse:
    term = request.GET.get("q", "")
    found = Article.objects.extra(where=[f"title LIKE '%%{term}%%'"])  # expect: sql-injection
    return JsonResponse({"titles": [a.title for a in found]})


def article_search_safe(request: HttpRequest) -> JsonResponse:
    term = request.GET.get("q", "")
    found = Article.objects.extra(where=["title LIKE %s"], params=[f"%{term}%"])  # ok: sql-injection
    return JsonResponse({"titles": [a.title for a in found]})


def rename_article(request: HttpRequest, article_id: int) -> JsonResponse:
    title = request.POST["title"]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE shop_article SET title = '%s' WHERE id = %d" % (title, article_id))  # expect: sql-injection
    return JsonResponse({"ok": True})


def rename_article_safe(request: HttpRequest, article_id: int) -> JsonResponse:
    title = request.POST["title"]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE shop_article SET title = %s WHERE id = %s", [title, article_id])  # ok: sql-injection
    return JsonResponse({"ok": True})


def ranked_articles(request: HttpRequest) -> JsonResponse:
    weight = request.GET.get("weight", "1")
    ranked = Article.objects.annotate(score=RawSQL(f"views * {weight}", []))  # expect: sql-injection
    return JsonResponse({"ids": [a.id for a in ranked.order_by("-score")]})


def ranked_articles_safe(request: HttpRequest) -> JsonResponse:
    weight = float(request.GET.get("weight", "1"))
    ranked = Article.objects.annotate(score=RawSQL("views * %s", [weight]))  # ok: sql-injection
    return JsonResponse({"ids": [a.id for a in ranked.order_by("-score")]})


def monthly_report(request: HttpRequest) -> JsonResponse:
    month = request.GET["month"]
    sql = "SELECT count(*) FROM shop_order WHERE to_char(created, 'YYYY-MM') = '{}'".format(month)  # near: sql-injection
    with connection.cursor() as cursor:
        cursor.execute(sql)  # expect: sql-injection
        (total,) = cursor.fetchone()
    return JsonResponse({"orders": total})


def monthly_report_safe(request: HttpRequest) -> JsonResponse:
    month = request.GET["month"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM shop_order WHERE to_char(created, 'YYYY-MM') = %s", [month])  # ok: sql-injection
        (total,) = cursor.fetchone()
    return JsonResponse({"orders": total})
