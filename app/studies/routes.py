"""My studies, creating a study, its settings, stakeholder groups and items."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wrappers import Response

from app.access import facilitated_study, membership
from app.errors import error_response
from app.extensions import db
from app.forms_common import field_errors
from app.htmx import render
from app.models import Item, Panellist, Study, StudyFacilitator
from app.rounds.forms import OpenRoundForm
from app.services.cycle import reopenings, study_outcome
from app.services.privacy import set_retention
from app.services.results import participation, rule_description
from app.services.setup import put_to_panel
from app.services.studies import (
    ItemFields,
    StudySettings,
    change_settings,
    create_group,
    create_item,
    create_study,
    import_items,
)
from app.studies.forms import GroupForm, ItemForm, RetentionForm, StudyForm, UploadForm
from app.words import count
from delphi import DomainError, ItemKind, RoundStatus, StudyStatus

bp = Blueprint("studies", __name__, url_prefix="/studies")


@bp.get("")
@login_required
def index() -> Response:
    facilitated = db.session.scalars(
        select(Study)
        .join(StudyFacilitator, StudyFacilitator.study_id == Study.id)
        .where(StudyFacilitator.user_id == current_user.id)
        .order_by(Study.created_at.desc())
    ).all()
    panels = db.session.scalars(
        select(Panellist)
        .where(Panellist.user_id == current_user.id, Panellist.joined_at.is_not(None))
        .order_by(Panellist.joined_at.desc())
    ).all()
    return render("studies/index.html", facilitated=facilitated, panels=panels)


def _study_settings(form: StudyForm) -> StudySettings:
    return StudySettings(
        title=(form.title.data or "").strip(),
        purpose=(form.purpose.data or "").strip(),
        scale_max=int(form.scale.data or 9),
        rule=form.rule.data or "percentage",
        pct_in=float(form.pct_in.data or 70),
        pct_out_max=float(form.pct_out_max.data or 0),
        max_iqr=float(form.max_iqr.data or 0),
        require_all_groups=bool(form.require_all_groups.data),
        max_rounds=int(form.max_rounds.data or 3),
        mode=form.mode.data or "rounds",
        proposals_open=bool(form.proposals_open.data),
        share_specification=bool(form.share_specification.data),
        random_item_order=bool(form.random_item_order.data),
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create() -> Response:
    if not current_user.can_create_studies:
        abort(403, description="Ask an administrator to let you create studies.")
    form = StudyForm()
    if form.validate_on_submit():
        study = create_study(_study_settings(form), current_user)
        flash("Study created. Next, add stakeholder groups and items.", "success")
        return redirect(url_for("studies.show", slug=study.slug), 303)
    status = 422 if form.is_submitted() else 200
    return render(
        "studies/form.html", form=form, errors=field_errors(form), study=None, status=status
    )


@bp.route("/<slug>/settings", methods=["GET", "POST"])
@login_required
def settings(slug: str) -> Response:
    study = facilitated_study(slug)
    locked = bool(study.rounds)
    form = StudyForm()
    if not form.is_submitted():
        form.title.data = study.title
        form.purpose.data = study.purpose
        form.scale.data = str(study.scale_max)
        form.rule.data = study.rule
        form.pct_in.data = study.pct_in
        form.pct_out_max.data = study.pct_out_max
        form.max_iqr.data = study.max_iqr
        form.require_all_groups.data = study.require_all_groups
        form.max_rounds.data = study.max_rounds
        form.mode.data = study.mode
        form.proposals_open.data = study.proposals_open
        form.share_specification.data = study.share_specification
        form.random_item_order.data = study.random_item_order
    elif form.validate_on_submit():
        try:
            change_settings(study, _study_settings(form), current_user)
        except DomainError as error:
            form.rule.errors = [str(error)]
        else:
            flash("Settings saved.", "success")
            return redirect(url_for("studies.show", slug=study.slug), 303)
    status = 422 if form.is_submitted() else 200
    retention = RetentionForm(formdata=None, retention_until=study.retention_until)
    return render(
        "studies/form.html",
        form=form,
        errors=field_errors(form),
        study=study,
        locked=locked,
        retention=retention,
        status=status,
    )


@bp.post("/<slug>/retention")
@login_required
def retention(slug: str) -> Response:
    """The retention date is its own form: it may change on a completed study, whose other
    settings are final."""
    study = facilitated_study(slug)
    retention_form = RetentionForm()
    if retention_form.validate_on_submit():
        set_retention(study, retention_form.retention_until.data, current_user)
        flash("Retention date saved.", "success")
        return redirect(url_for("studies.settings", slug=study.slug), 303)
    form = StudyForm(formdata=None, obj=study)
    form.scale.data = str(study.scale_max)
    return render(
        "studies/form.html",
        form=form,
        errors=field_errors(retention_form),
        study=study,
        locked=bool(study.rounds),
        retention=retention_form,
        status=422,
    )


@bp.get("/<slug>")
@login_required
def show(slug: str) -> Response:
    member = membership(slug)
    study = member.study
    current = study.rounds[-1] if study.rounds else None
    if not member.is_facilitator:
        from app.services.background import questions_for, unanswered
        from app.services.consent import current_version, interests_of, must_consent
        from app.services.overview import closed_rounds, decisions_for_panel
        from app.services.proposals import proposals_accepted_now, proposals_for

        completed = study.status == StudyStatus.COMPLETED
        panellist = member.panellist
        return render(
            "studies/panellist_home.html",
            study=study,
            panellist=panellist,
            consent_needed=must_consent(panellist) if panellist else None,
            has_information=current_version(study.id) is not None,
            declared=interests_of(panellist) if panellist else None,
            background_asked=bool(questions_for(panellist)) if panellist else False,
            background_due=unanswered(panellist) if panellist else 0,
            current=current,
            rule=rule_description(study),
            closed_rounds=closed_rounds(study),
            decisions=decisions_for_panel(study),
            proposals_open=proposals_accepted_now(study),
            my_proposals=len(proposals_for(study, member.panellist)) if member.panellist else 0,
            outcome=study_outcome(study) if completed else None,
            last_closed=next(
                (r for r in reversed(study.rounds) if r.status == RoundStatus.CLOSED), None
            ),
        )
    open_form = OpenRoundForm()
    from app.models import Proposal
    from app.services.cycle import non_responder_count, stop_reasons
    from app.services.overview import study_overview

    pending = db.session.scalar(
        select(db.func.count(Proposal.id)).where(
            Proposal.study_id == study.id,
            Proposal.status == "pending",
            Proposal.ideas_round.is_(False),
        )
    )
    overview = study_overview(study)
    return render(
        "studies/dashboard.html",
        pending_proposals=pending,
        stop_reasons=(
            stop_reasons(study, overview.stability_found)
            if study.status != StudyStatus.COMPLETED
            else []
        ),
        study=study,
        current=current,
        rule=rule_description(study),
        participation=participation(current) if current else [],
        overview=overview,
        # A count: the names are on the responders page, and loading the panel to count it
        # was most of this page's time at 500 panellists.
        missing=(
            non_responder_count(current) if current and current.status == RoundStatus.OPEN else 0
        ),
        # Counted from the panel the Panel row loads anyway: no statement of its own.
        withdrew=sum(1 for p in study.panellists if p.withdrawn_at is not None),
        open_form=open_form,
        group_form=GroupForm(),
        reopenings=reopenings(study),
    )


@bp.post("/<slug>/groups")
@login_required
def add_group_view(slug: str) -> Response:
    study = facilitated_study(slug)
    form = GroupForm()
    if form.validate_on_submit():
        try:
            create_group(study, form.name.data or "", current_user)
        except DomainError as error:
            form.name.errors = [str(error)]
        else:
            flash(f"Group \u201c{form.name.data}\u201d added.", "success")
            return redirect(url_for("studies.show", slug=slug) + "#groups", 303)
    return render(
        "studies/groups.html", study=study, group_form=form, errors=field_errors(form), status=422
    )


@bp.get("/<slug>/items")
@login_required
def items(slug: str) -> Response:
    study = facilitated_study(slug)
    # Every item with all its versions (for `Item.current`) in two queries; `study.items`
    # then finds them loaded, instead of one query per item (kept referenced until the page
    # is drawn: the session holds loaded objects only weakly).
    loaded = db.session.scalars(
        select(Item)
        .where(Item.study_id == study.id)
        .options(selectinload(Item.versions))
        .execution_options(populate_existing=True)
    ).all()
    page = render("studies/items.html", study=study, upload=UploadForm(), **items_context(study))
    del loaded
    return page


def items_context(study: Study) -> dict[str, object]:
    """What the Items page needs beyond the study: which items may still be deleted."""
    return {"put_to_panel": put_to_panel(study)}


@bp.route("/<slug>/items/new", methods=["GET", "POST"])
@login_required
def new_item(slug: str) -> Response:
    study = facilitated_study(slug)
    form = ItemForm()
    if form.validate_on_submit():
        kind = ItemKind(form.kind.data or ItemKind.PROMPT)
        fields = ItemFields(
            kind=kind,
            theme=(form.theme.data or "").strip(),
            text=(form.text.data or "").strip(),
            notes=(form.notes.data or "").strip(),
            **(
                {
                    "definition": (form.definition.data or "").strip(),
                    "numerator": (form.numerator.data or "").strip(),
                    "denominator": (form.denominator.data or "").strip(),
                    "data_source": (form.data_source.data or "").strip(),
                    "rationale": (form.rationale.data or "").strip(),
                    "reporting_frequency": (form.reporting_frequency.data or "").strip(),
                    "threshold": (form.threshold.data or "").strip(),
                }
                if kind is ItemKind.INDICATOR
                else {}
            ),
        )
        item = create_item(study, fields, current_user)
        flash(f"Item {item.ref} added.", "success")
        return redirect(url_for("studies.items", slug=slug), 303)
    status = 422 if form.is_submitted() else 200
    return render(
        "studies/item_form.html", study=study, form=form, errors=field_errors(form), status=status
    )


@bp.post("/<slug>/items/import")
@login_required
def import_items_view(slug: str) -> Response:
    study = facilitated_study(slug)
    form = UploadForm()
    report = None
    if form.validate_on_submit():
        upload = form.file.data
        report = import_items(study, upload.filename or "", upload.read(), current_user)
        if report.ok:
            flash(f"{count(report.created, 'item')} imported.", "success")
            return redirect(url_for("studies.items", slug=slug), 303)
    return render(
        "studies/items.html",
        study=study,
        upload=form,
        report=report,
        errors=field_errors(form) + [("file", e) for e in (report.errors if report else [])],
        status=422,
        **items_context(study),
    )


def too_large_message() -> str:
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    size = f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"
    return f"The file is too large. Upload a file of {size} or less."


@bp.errorhandler(RequestEntityTooLarge)
def upload_too_large(error: RequestEntityTooLarge) -> Response | tuple[Response | str, int]:
    """A file over the limit is refused before the view runs (reading the form raises this),
    so the Items page is drawn here, with the message in its error summary, instead of a
    bare error page. Nothing was read, so nothing is changed."""
    slug = (request.view_args or {}).get("slug")
    if request.endpoint != "studies.import_items_view" or not slug:
        return error_response(413, too_large_message())
    try:
        study = facilitated_study(slug) if current_user.is_authenticated else None
    except HTTPException as refused:
        return error_response(refused.code or 403)
    if study is None:
        return redirect(url_for("auth.login", next=request.path))
    form = UploadForm(formdata=None)
    form.file.errors = [too_large_message()]
    return render(
        "studies/items.html",
        study=study,
        upload=form,
        report=None,
        errors=field_errors(form),
        status=413,
        **items_context(study),
    )


# The rating criteria (app/studies/criteria.py) and editing setup after the fact
# (app/studies/editing.py) register on this blueprint.
from app.studies import criteria as _criteria  # noqa: E402,F401
from app.studies import editing as _editing  # noqa: E402,F401
