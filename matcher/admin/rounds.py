"""Rounds: preview next week's round, save it as a draft, override, publish or discard it."""

from __future__ import annotations

from functools import lru_cache

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from matcher.admin import bp, charts, drafts, summaries
from matcher.admin.forms.rounds import ConfirmForm, PreviewForm, SwapForm, TakeOutForm
from matcher.admin.scope import programme_for, show_programme
from matcher.admin.summaries import (
    StoredSummary,
    Summary,
    load_round,
    page_of_groups,
    people_of,
    summarise_plan,
    summarise_round,
)
from matcher.audit import record
from matcher.extensions import db
from matcher.matching import Rules
from matcher.models import Programme, Round
from matcher.notify.status import delivery_here
from matcher.pagecache import cached_page
from matcher.programmes import schedule
from matcher.programmes.members import auto_enrol
from matcher.programmes.settings import rules_or_default
from matcher.rounds import planning, publishing
from matcher.weeks import parse_week, week_label


def score_charts(summaries: list[Summary] | list[StoredSummary]) -> list:
    """Score histograms sharing one scale, so side-by-side charts compare at a glance."""
    # A stored round keeps its bins only: it is charted alone.
    upper = max((summary.score_upper for summary in summaries), default=1.0)
    counts = [summary.score_bins(upper) for summary in summaries]
    tallest = max((n for bins in counts for n in bins), default=0)
    return [_histogram(bins, upper, tallest) for bins in counts]


@lru_cache(maxsize=64)
def _histogram(counts: tuple[int, ...], upper: float, tallest: int) -> object:
    """A round's score histogram from its bins: drawing it cost as much as the rest of the
    round page's metrics, and a published round's bins never change."""
    return charts.histogram_of_counts(
        counts, "Group scores", "score", upper=upper, max_count=tallest, width=440
    )


# Preview ---------------------------------------------------------------------------------


def _render_preview(form: PreviewForm, run: bool, programme: Programme) -> tuple[str, int]:
    current = rules_or_default(programme)
    columns: list[tuple[str, str, Rules, Summary]] = []
    week = None
    if run and not form.week.errors:
        week = week_label(parse_week(form.week.data))
        plan = planning.plan_round(db.session, programme, week, rules=current)
        columns.append(("current", "Current rules", current, summarise_plan(plan)))
        proposed = getattr(form, "rules", None)
        if proposed is not None and proposed != current:
            plan = planning.plan_round(db.session, programme, week, rules=proposed)
            columns.append(("proposed", "Proposed rules", proposed, summarise_plan(plan)))
    existing = publishing.find_round(db.session, programme, week) if week else None
    page = render_template(
        "admin/preview.html",
        page_of_groups=page_of_groups,
        form=form,
        week=week,
        columns=columns,
        charts=score_charts([c[3] for c in columns]),
        existing=existing,
    )
    return page, (422 if form.errors else 200)


@bp.route("/preview")
@bp.route("/p/<slug>/preview")
def preview(slug: str | None = None) -> tuple[str, int]:
    """Next week's round (or a chosen week) with the current and the proposed rules."""
    programme = programme_for(slug)
    form = PreviewForm(request.args or None, meta={"csrf": False})
    form.fill_missing_rules(rules_or_default(programme), request.args)
    form.fit_to(programme)
    if not request.args.get("week"):
        form.week.data = schedule.next_week(db.session, programme)
    form.validate()
    return _render_preview(form, True, programme)


@bp.route("/preview/save", methods=["POST"])
@bp.route("/p/<slug>/preview/save", methods=["POST"])
def save_draft(slug: str | None = None) -> tuple[str, int] | Response:
    """Store the previewed round (current or proposed rules) as a draft of the programme."""
    programme = programme_for(slug)
    form = PreviewForm()
    form.fit_to(programme)
    if not form.validate_on_submit():
        flash("The draft was not saved: some values need fixing.", "error")
        return _render_preview(form, not form.week.errors, programme)
    rules = form.rules if form.use.data == "proposed" else rules_or_default(programme)
    week = week_label(parse_week(form.week.data))
    try:
        # New joiners of a programme that enrols them by itself are in before it is computed.
        auto_enrol(db.session, programme, parse_week(week))
        plan = planning.plan_round(db.session, programme, week, rules=rules)
        round_ = publishing.save_round(db.session, plan)
    except publishing.RoundExists as exists:
        flash(f"A round for {week} exists already ({exists.round.status}).", "error")
        return redirect(url_for("admin.round_detail", round_id=exists.round.id))
    except IntegrityError:  # another admin saved the same week a moment ago
        db.session.rollback()
        flash(f"A round for {week} was just saved by someone else.", "error")
        return redirect(url_for("admin.rounds", slug=slug))
    record(
        db.session, current_user.id, "round.draft", f"round {week}",
        after={
            "week": week, "programme": programme.name, "rules": rules.to_dict(),
            "groups": len(round_.groups),
        },
    )  # fmt: skip
    db.session.commit()
    flash(f"Draft saved for {week}. Check it, adjust it, then publish.", "ok")
    return redirect(url_for("admin.round_detail", round_id=round_.id))


# Rounds ----------------------------------------------------------------------------------


@bp.route("/rounds")
@bp.route("/p/<slug>/rounds")
def rounds(slug: str | None = None) -> str:
    """Every round of the programme, newest first, with its status."""
    programme = programme_for(slug)
    rows = summaries.rounds_with_group_counts(db.session, 200, programme.id)
    return render_template(
        "admin/rounds.html", rows=rows, next_week=schedule.next_week(db.session, programme)
    )


def _round_or_404(round_id: int) -> Round:
    round_ = load_round(db.session, round_id)
    if round_ is None:
        abort(404)
    # A round's pages are about its own programme (the nav and heading say which).
    show_programme(round_.programme)
    return round_


def _person_choices(round_: Round, shown: set[int] | None = None) -> list[SelectChoice]:
    """Everyone's place in a group of the round (or only those shown), with their group
    number; the value is the membership, since a mentor is in several groups."""
    members = {m.user_id for g in round_.groups for m in g.memberships}
    people = people_of(db.session, members if shown is None else members & shown)
    choices = [
        SelectChoice(m.id, f"{people[m.user_id].name} ({people[m.user_id].team}), group {k}")
        for k, g in enumerate(round_.groups, start=1)
        for m in g.memberships
        if m.user_id in people
    ]
    # A blank first choice, so nobody is swapped or taken out by a stray click.
    return [SelectChoice("", "— pick someone —"), *choices]


def _override_forms(round_: Round) -> tuple[SwapForm, TakeOutForm]:
    """The swap and take-out forms, accepting anyone in a group of the round."""
    choices = _person_choices(round_)
    swap_form, take_out_form = SwapForm(prefix="swap"), TakeOutForm(prefix="out")
    swap_form.first.choices = choices
    swap_form.second.choices = choices
    take_out_form.person.choices = choices
    return swap_form, take_out_form


def _render_round(
    round_: Round, swap_form: SwapForm | None = None, take_out_form: TakeOutForm | None = None
) -> tuple[str, int]:
    summary = summarise_round(db.session, round_)
    groups = page_of_groups(
        summary.groups,
        request.args.get("q", "", type=str)[:100],
        request.args.get("page", 1, type=int),
    )
    swap_form = swap_form or SwapForm(prefix="swap")
    take_out_form = take_out_form or TakeOutForm(prefix="out")
    # The lists offer the people of the groups on this page (a 10,000-person draft would
    # otherwise send three lists of 10,000 names); search brings anyone here.
    shown = {m.id for _, g in groups.rows for m in g.members}
    choices = _person_choices(round_, shown) if round_.status == "draft" else []
    for person_list in (swap_form.first, swap_form.second, take_out_form.person):
        person_list.choices = choices
    page = _round_page(round_, summary, groups, swap_form, take_out_form)
    return page, (422 if swap_form.errors or take_out_form.errors else 200)


def _round_page(
    round_: Round,
    summary: Summary,
    groups: object,
    swap_form: SwapForm | None,
    take_out_form: TakeOutForm | None,
) -> str:
    """The round page from its summary and one page of groups (forms only for a draft)."""
    return render_template(
        "admin/round.html",
        round=round_,
        summary=summary,
        groups=groups,
        chart=score_charts([summary])[0],
        swap_form=swap_form,
        take_out_form=take_out_form,
        confirm=ConfirmForm(),
    )


@bp.route("/rounds/<int:round_id>")
@cached_page
def round_detail(round_id: int) -> tuple[str, int]:
    """One round: metrics, groups and reasons; overrides and publish while it is a draft."""
    round_ = db.session.get(Round, round_id)
    if round_ is None:
        abort(404)
    query = request.args.get("q", "", type=str)[:100]
    if round_.status != "draft" and not query.strip():
        # A published round reads its stored summary and one page of groups, not every
        # group's objects and the engine input (a search still reads every group).
        stored = summaries.stored_round(db.session, round_, request.args.get("page", 1, type=int))
        if stored is not None:
            show_programme(round_.programme)
            summary, groups = stored
            return _round_page(round_, summary, groups, None, None), 200
    return _render_round(_round_or_404(round_id))


@bp.route("/rounds/<int:round_id>/swap", methods=["POST"])
def round_swap(round_id: int) -> tuple[str, int] | Response:
    """Swap two people between groups of a draft."""
    round_ = _round_or_404(round_id)
    swap_form, take_out_form = _override_forms(round_)
    if not swap_form.validate_on_submit():
        return _render_round(round_, swap_form, take_out_form)
    try:
        message = drafts.swap(
            db.session, round_, swap_form.first.data, swap_form.second.data, current_user.id
        )
    except drafts.OverrideError as error:
        if round_.status != "draft":
            flash(str(error), "error")
            return redirect(url_for("admin.round_detail", round_id=round_.id))
        swap_form.second.errors = [str(error)]
        return _render_round(round_, swap_form, take_out_form)
    db.session.commit()
    flash(message, "ok")
    return redirect(url_for("admin.round_detail", round_id=round_.id))


@bp.route("/rounds/<int:round_id>/take-out", methods=["POST"])
def round_take_out(round_id: int) -> tuple[str, int] | Response:
    """Take someone out of a draft; they are listed as unmatched."""
    round_ = _round_or_404(round_id)
    swap_form, take_out_form = _override_forms(round_)
    if not take_out_form.validate_on_submit():
        return _render_round(round_, swap_form, take_out_form)
    try:
        message = drafts.take_out(db.session, round_, take_out_form.person.data, current_user.id)
    except drafts.OverrideError as error:
        flash(str(error), "error")
        return redirect(url_for("admin.round_detail", round_id=round_.id))
    db.session.commit()
    flash(message, "ok")
    return redirect(url_for("admin.round_detail", round_id=round_.id))


def _confirmed_action(round_id: int, action, then: str) -> Response:
    round_ = _round_or_404(round_id)
    slug = round_.programme.slug  # a discarded round is gone after the commit
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        message = action(db.session, round_, current_user.id)
    except drafts.OverrideError as error:
        flash(str(error), "error")
        return redirect(url_for("admin.round_detail", round_id=round_.id))
    db.session.commit()
    flash(message, "ok")
    if then == "admin.rounds":
        return redirect(url_for(then, slug=slug))
    return redirect(url_for(then, round_id=round_id))


@bp.route("/rounds/<int:round_id>/publish", methods=["POST"])
def round_publish(round_id: int) -> Response:
    """Publish a draft: messages are queued in the same transaction."""

    def publish_and_say_where(session, round_: Round, actor_id: int) -> str:
        route = delivery_here(current_app._get_current_object())
        return f"{drafts.publish(session, round_, actor_id)} {route.where} {route.when}"

    return _confirmed_action(round_id, publish_and_say_where, "admin.round_detail")


@bp.route("/rounds/<int:round_id>/discard", methods=["POST"])
def round_discard(round_id: int) -> Response:
    """Delete a draft."""
    return _confirmed_action(round_id, drafts.discard, "admin.rounds")
