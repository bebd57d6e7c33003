"""An indicator's test data: the facilitator uploads trust-level data, previews the funnel
plot, saves it and chooses whether panellists see it; panellists read what is shown."""

from __future__ import annotations

import json

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.access import facilitated_study, item_of, membership
from app.forms_common import field_errors
from app.htmx import render
from app.indicators.forms import TestDataConfirmForm, TestDataSettings, TestDataUploadForm
from app.models import IndicatorTestData, Item, Study
from app.services.indicator_testing import (
    Settings,
    Upload,
    read_upload,
    rows_from_json,
    save_test_data,
    set_shown_to_panel,
    summarise,
    test_data_for,
)
from delphi import DomainError, ItemKind, StudyStatus
from delphi.rounds import check_record_open

bp = Blueprint("indicators", __name__, url_prefix="/studies/<slug>/items/<ref>/testing")


def _indicator(study: Study, ref: str) -> Item:
    item = item_of(study, ref)
    if item.item_kind is not ItemKind.INDICATOR:
        abort(404, description=f"{item.ref} is a prompt: only indicators take test data.")
    return item


def _settings(form: TestDataSettings) -> Settings:
    return Settings(
        period=(form.period.data or "").strip(),
        source=(form.source.data or "").strip(),
        lower_is_better=form.direction.data == "lower",
        method=form.method.data or "additive",
        per=int(form.per.data or 100),
    )


def _page(
    study: Study,
    item: Item,
    *,
    upload: TestDataUploadForm | None = None,
    confirm: TestDataConfirmForm | None = None,
    preview: Upload | None = None,
    preview_data: IndicatorTestData | None = None,
    errors: list[tuple[str, str]] | None = None,
    status: int = 200,
) -> Response:
    data = test_data_for(item)
    if upload is None:
        upload = TestDataUploadForm(formdata=None)
        if data is not None:
            upload.period.data = data.period
            upload.source.data = data.source
            upload.direction.data = "lower" if data.lower_is_better else "higher"
            upload.per.data = str(data.per)
            upload.method.data = data.method
    return render(
        "indicators/testing.html",
        study=study,
        item=item,
        data=data,
        summary=summarise(data, item) if data is not None else None,
        upload=upload,
        confirm=confirm,
        preview=preview,
        preview_summary=summarise(preview_data, item) if preview_data is not None else None,
        is_facilitator=True,
        errors=errors or [],
        status=status,
    )


@bp.get("")
@login_required
def show(slug: str, ref: str) -> Response:
    member = membership(slug)
    item = _indicator(member.study, ref)
    if member.is_facilitator:
        return _page(member.study, item)
    data = test_data_for(item)
    if data is None or not data.shown_to_panel:
        abort(404, description=f"No test data is shown for {item.ref}.")
    return render(
        "indicators/testing.html",
        study=member.study,
        item=item,
        data=data,
        summary=summarise(data, item),
        is_facilitator=False,
        errors=[],
    )


def _preview_data(
    item: Item, upload: Upload, settings: Settings, filename: str
) -> IndicatorTestData:
    # A transient row (never added to the session) so the preview reads like the saved page.
    return IndicatorTestData(
        item_id=item.id,
        rows=upload.rows,
        period=settings.period,
        source=settings.source,
        filename=filename,
        lower_is_better=settings.lower_is_better,
        method=settings.method,
        per=settings.per,
        synthetic=False,
        shown_to_panel=False,
    )


@bp.post("/preview")
@login_required
def preview(slug: str, ref: str) -> Response:
    study = facilitated_study(slug)
    item = _indicator(study, ref)
    form = TestDataUploadForm()
    try:
        check_record_open(StudyStatus(study.status), action="changing an indicator's test data")
    except DomainError as error:
        return _page(study, item, upload=form, errors=[("file", str(error))], status=409)
    if not form.validate_on_submit():
        return _page(study, item, upload=form, errors=field_errors(form), status=422)
    file = form.file.data
    filename = file.filename or ""
    upload = read_upload(filename, file.read())
    if not upload.ok:
        return _page(
            study,
            item,
            upload=form,
            preview=upload,
            errors=[("file", e) for e in upload.errors],
            status=422,
        )
    settings = _settings(form)
    confirm = TestDataConfirmForm(formdata=None)
    for name in ("period", "source", "direction", "per", "method"):
        getattr(confirm, name).data = getattr(form, name).data
    confirm.rows.data = json.dumps(upload.rows)
    confirm.filename.data = filename
    return _page(
        study,
        item,
        upload=form,
        confirm=confirm,
        preview=upload,
        preview_data=_preview_data(item, upload, settings, filename),
    )


@bp.post("")
@login_required
def save(slug: str, ref: str) -> Response:
    study = facilitated_study(slug)
    item = _indicator(study, ref)
    form = TestDataConfirmForm()
    if not form.validate_on_submit():
        return _page(study, item, errors=field_errors(form), status=422)
    try:
        rows = json.loads(form.rows.data or "")
    except ValueError:
        rows = None
    upload = rows_from_json(rows)
    if not upload.ok:
        return _page(study, item, errors=[("file", e) for e in upload.errors], status=422)
    try:
        save_test_data(
            item,
            upload.rows,
            _settings(form),
            filename=form.filename.data or "",
            actor=current_user,
        )
    except DomainError as error:
        return _page(study, item, errors=[("file", str(error))], status=error.status_code)
    flash(f"Test data for {item.ref} saved: {len(upload.rows)} trusts.", "success")
    return redirect(url_for("indicators.show", slug=slug, ref=item.ref), 303)


@bp.post("/visibility")
@login_required
def visibility(slug: str, ref: str) -> Response:
    study = facilitated_study(slug)
    item = _indicator(study, ref)
    if test_data_for(item) is None:
        abort(404, description=f"{item.ref} has no test data yet.")
    shown = request.form.get("shown") == "yes"
    try:
        set_shown_to_panel(item, shown, actor=current_user)
    except DomainError as error:
        return _page(study, item, errors=[("shown", str(error))], status=error.status_code)
    flash(
        f"Panellists {'now see' if shown else 'no longer see'} the test data for {item.ref}.",
        "success",
    )
    return redirect(url_for("indicators.show", slug=slug, ref=item.ref), 303)
