"""
The search pages: ``/search/?q=…`` (works without JavaScript, shareable by URL)
and ``/search.json?q=…`` for the as-you-type list in the top bar. Both rank the
same way (``tutorials.search.search``); the page shows more results.
"""

from django import forms
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from .. import search
from ..pagecache import cacheable_page

MAX_QUERY_LENGTH = 200  # characters, as the search box's maxlength


class SearchForm(forms.Form):
    q = forms.CharField(
        label="Search the course",
        max_length=MAX_QUERY_LENGTH,
        required=False,
        error_messages={
            "max_length": "Search for at most %(limit_value)d characters "
            "(this search has %(show_value)d)."
        },
    )


def _read(request: HttpRequest) -> tuple[SearchForm, str, str]:
    """The form, the query text and the error to show (if the text is not valid)."""
    form = SearchForm(request.GET)
    if form.is_valid():
        return form, form.cleaned_data["q"], ""
    return form, "", " ".join(form.errors.get("q", ["This search is not valid."]))


@require_safe
@cacheable_page(store=False)  # ETag + 304, but runs each time: misses are recorded
def search_page(request: HttpRequest) -> HttpResponse:
    """Results for ``?q=``, a form error (400) for text that cannot be a query."""
    form, text, error = _read(request)
    results = search.search(text) if text else None
    if results is not None and results.query and not results.hits:
        search.record_miss(results.query)
    context = {
        "form": form,
        "query": text if not error else "",
        "results": results,
        "error": error,
    }
    return render(request, "tutorials/search.html", context, status=400 if error else 200)


@require_safe
@cacheable_page  # no side effect: the same query is answered from the page cache
def search_json(request: HttpRequest) -> JsonResponse:
    """The first results for ``?q=``, with matched words marked, as JSON.

    ``{"query": …, "matched": "all"|"any"|"", "suggestion": "" or the corrected
    query whose results these are, "results": [{"title": segments,
    "section": …, "url": …, "heading": segments, "snippet": segments}, …]}``
    where ``segments`` is a list of ``[text, is_match]`` pairs (``[text, is_match,
    true]`` for a piece of code), so the page can
    build the list from text nodes, without parsing any HTML.
    """
    _form, text, error = _read(request)
    if error:
        return JsonResponse({"query": "", "error": error, "results": []}, status=400)
    results = search.search(text, limit=search.SUGGESTIONS) if text else None
    return JsonResponse(
        {
            "query": text,
            "matched": results.matched if results else "",
            "suggestion": results.suggestion if results else "",
            "results": [hit.as_json() for hit in results.hits] if results else [],
        }
    )
